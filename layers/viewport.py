"""The map view: which part of the EPSG:4549 plane a window of pixels shows.

Qt-free and vectorised, so the canvas, the print exporter and the tile fetcher share
one definition of "where on screen is this coordinate". Map y grows north, screen y
grows down.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Viewport", "METRES_PER_PIXEL_AT_SCALE_1"]

METRES_PER_PIXEL_AT_SCALE_1 = 0.00028
"""OGC standard rendering pixel (0.28 mm): scale denominator = metres per pixel / 0.00028."""


@dataclass
class Viewport:
    """A view of ``width`` × ``height`` pixels centred on ``(cx, cy)`` at ``mpp`` metres per pixel."""

    cx: float = 0.0
    cy: float = 0.0
    mpp: float = 10.0
    width: int = 800
    height: int = 600

    # -- derived ------------------------------------------------------------------
    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` in map metres."""
        hw, hh = self.width * self.mpp / 2.0, self.height * self.mpp / 2.0
        return (self.cx - hw, self.cy - hh, self.cx + hw, self.cy + hh)

    @property
    def scale(self) -> float:
        """Scale denominator (1:scale) for the OGC 0.28 mm pixel."""
        return self.mpp / METRES_PER_PIXEL_AT_SCALE_1

    # -- transforms -----------------------------------------------------------------
    def to_screen(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map metres → pixel coordinates (floats)."""
        sx = (np.asarray(x, dtype=float) - self.cx) / self.mpp + self.width / 2.0
        sy = (self.cy - np.asarray(y, dtype=float)) / self.mpp + self.height / 2.0
        return sx, sy

    def to_map(self, sx: np.ndarray | float, sy: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates → map metres."""
        x = (np.asarray(sx, dtype=float) - self.width / 2.0) * self.mpp + self.cx
        y = self.cy - (np.asarray(sy, dtype=float) - self.height / 2.0) * self.mpp
        return x, y

    # -- navigation (return new viewports; the canvas keeps history) -------------------
    def zoomed(self, factor: float, *, about: tuple[float, float] | None = None) -> "Viewport":
        """Zoom in by ``factor`` (> 1 zooms in) keeping the map point under pixel ``about`` fixed."""
        if factor <= 0:
            raise ValueError(f"zoom factor {factor!r} must be > 0")
        new_mpp = self.mpp / factor
        if about is None:
            return Viewport(self.cx, self.cy, new_mpp, self.width, self.height)
        mx, my = self.to_map(about[0], about[1])
        sx, sy = about
        cx = float(mx) - (sx - self.width / 2.0) * new_mpp
        cy = float(my) + (sy - self.height / 2.0) * new_mpp
        return Viewport(cx, cy, new_mpp, self.width, self.height)

    def panned(self, dx_px: float, dy_px: float) -> "Viewport":
        """Move the content by ``(dx_px, dy_px)`` pixels (drag direction)."""
        return Viewport(self.cx - dx_px * self.mpp, self.cy + dy_px * self.mpp, self.mpp, self.width, self.height)

    def resized(self, width: int, height: int) -> "Viewport":
        return Viewport(self.cx, self.cy, self.mpp, int(width), int(height))

    def fitted(self, bounds: tuple[float, float, float, float], *, margin: float = 0.05) -> "Viewport":
        """A viewport of the same pixel size showing ``bounds`` with a relative margin."""
        minx, miny, maxx, maxy = bounds
        w = max(maxx - minx, 1.0) * (1 + 2 * margin)
        h = max(maxy - miny, 1.0) * (1 + 2 * margin)
        mpp = max(w / max(self.width, 1), h / max(self.height, 1))
        return Viewport((minx + maxx) / 2.0, (miny + maxy) / 2.0, mpp, self.width, self.height)

    def with_scale(self, scale: float) -> "Viewport":
        """The same centre at scale denominator ``scale``."""
        return Viewport(self.cx, self.cy, scale * METRES_PER_PIXEL_AT_SCALE_1, self.width, self.height)
