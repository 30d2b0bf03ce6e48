"""Flattened coordinates and a spatial index of a layer's geometries, built once.

Drawing 100k features fast means never looping over shapely objects at paint time:
this cache explodes the geometries once into plain float arrays (points, line parts
and polygon rings with offsets), so a redraw is one affine transform in NumPy plus
the drawing calls. The same cache answers hit-tests through a spatial index: an
immutable :class:`shapely.STRtree` for fixed layers, an :class:`rtree.index.Index`
(which accepts inserts) for layers edited live such as patrol findings.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import shapely

__all__ = ["GeometryCache"]

_POINT, _LINE, _RING, _POLY = 0, 1, 2, 3


class GeometryCache:
    """Flattened geometry arrays and a spatial index for one array of geometries.

    Parameters
    ----------
    geometries
        Shapely geometries (an object array, a GeoSeries or a list); None and empty
        geometries are allowed and never drawn or hit.
    live
        Use an :class:`rtree.index.Index` so :meth:`append` can add features without
        rebuilding the index (for layers that grow while the app runs).

    Attributes
    ----------
    point_xy, point_feature
        ``(P, 2)`` coordinates of every point (multi-points exploded) and the row each
        belongs to.
    line_xy, line_offsets, line_feature
        Coordinates of every line part; part ``i`` is ``line_xy[line_offsets[i]:line_offsets[i+1]]``.
    ring_xy, ring_offsets, ring_feature, ring_is_hole
        The same for polygon rings (exterior and interior), with a hole flag per ring.
    feature_has_holes
        ``(n,)`` bool: rows whose polygons have interior rings (drawn with a path).
    bounds
        ``(n, 4)`` per-row ``minx, miny, maxx, maxy`` (NaN for empty rows).
    """

    def __init__(self, geometries: Iterable[object] | np.ndarray, *, live: bool = False, index: bool = True) -> None:
        self.live = bool(live)
        self.geoms = _as_geom_array(geometries)
        self._simplified: dict[float, GeometryCache] = {}
        self._build_arrays()
        self._tree: shapely.STRtree | None = None
        self._rtree = None
        if index:
            self._build_index()

    # ------------------------------------------------------------------ building
    def _build_arrays(self) -> None:
        g = self.geoms
        n = len(g)
        self.bounds = shapely.bounds(g) if n else np.empty((0, 4))
        parts, part_row = shapely.get_parts(g, return_index=True)
        if len(parts):
            keep = ~shapely.is_empty(parts)
            parts, part_row = parts[keep], part_row[keep]
        ptype = shapely.get_type_id(parts) if len(parts) else np.empty(0, dtype=int)
        # collections one level deeper
        coll = ptype == 7
        if coll.any():
            sub, sub_idx = shapely.get_parts(parts[coll], return_index=True)
            rows = part_row[coll][sub_idx]
            parts = np.concatenate([parts[~coll], sub])
            part_row = np.concatenate([part_row[~coll], rows])
            ptype = shapely.get_type_id(parts)
        # points
        pm = ptype == 0
        self.point_xy = shapely.get_coordinates(parts[pm]) if pm.any() else np.empty((0, 2))
        self.point_feature = part_row[pm].astype(np.int64)
        # lines
        lm = (ptype == 1) | (ptype == 2)
        lines = parts[lm]
        self.line_xy = shapely.get_coordinates(lines) if len(lines) else np.empty((0, 2))
        counts = shapely.get_num_coordinates(lines) if len(lines) else np.empty(0, dtype=int)
        self.line_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.line_feature = part_row[lm].astype(np.int64)
        # polygons
        polym = ptype == 3
        polys = parts[polym]
        if len(polys):
            rings, ring_poly = shapely.get_rings(polys, return_index=True)
            self.ring_xy = shapely.get_coordinates(rings)
            counts = shapely.get_num_coordinates(rings)
            self.ring_feature = part_row[polym][ring_poly].astype(np.int64)
            first = np.ones(len(rings), dtype=bool)
            first[1:] = ring_poly[1:] != ring_poly[:-1]
            self.ring_is_hole = ~first
        else:
            self.ring_xy = np.empty((0, 2))
            counts = np.empty(0, dtype=int)
            self.ring_feature = np.empty(0, dtype=np.int64)
            self.ring_is_hole = np.empty(0, dtype=bool)
        self.ring_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.feature_has_holes = np.zeros(n, dtype=bool)
        if self.ring_is_hole.any():
            self.feature_has_holes[self.ring_feature[self.ring_is_hole]] = True
        self._ring_bounds: np.ndarray | None = None
        self._line_bounds: np.ndarray | None = None

    def _build_index(self) -> None:
        if self.live:
            import rtree

            props = rtree.index.Property()
            ok = ~np.isnan(self.bounds).any(axis=1) if len(self.bounds) else np.zeros(0, dtype=bool)
            items = [(int(i), tuple(self.bounds[i]), None) for i in np.flatnonzero(ok)]
            self._rtree = rtree.index.Index(items, properties=props) if items else rtree.index.Index(properties=props)
        else:
            self._tree = shapely.STRtree(self.geoms)

    # ------------------------------------------------------------------ derived
    def __len__(self) -> int:
        return len(self.geoms)

    @property
    def total_bounds(self) -> tuple[float, float, float, float] | None:
        """``(minx, miny, maxx, maxy)`` of every non-empty row, or None for an empty layer."""
        b = self.bounds
        if len(b) == 0 or np.isnan(b).all():
            return None
        return (float(np.nanmin(b[:, 0])), float(np.nanmin(b[:, 1])), float(np.nanmax(b[:, 2])), float(np.nanmax(b[:, 3])))

    @property
    def ring_bounds(self) -> np.ndarray:
        """``(R, 4)`` bounds of every polygon ring (computed on first use)."""
        if self._ring_bounds is None:
            self._ring_bounds = _part_bounds(self.ring_xy, self.ring_offsets)
        return self._ring_bounds

    @property
    def line_bounds(self) -> np.ndarray:
        """``(L, 4)`` bounds of every line part (computed on first use)."""
        if self._line_bounds is None:
            self._line_bounds = _part_bounds(self.line_xy, self.line_offsets)
        return self._line_bounds

    def for_resolution(self, units_per_pixel: float) -> "GeometryCache":
        """Arrays simplified for drawing at ``units_per_pixel`` (Douglas-Peucker, at most one pixel; QGIS default).

        Tolerances are bucketed by powers of two and the last few are kept, so zooming
        does not recompute them; when simplification would remove less than a tenth of
        the vertices the full-resolution cache itself is returned. Simplified caches
        have no spatial index: hit-tests always use the exact geometry.
        """
        n_vertices = len(self.ring_xy) + len(self.line_xy)
        if n_vertices == 0 or units_per_pixel <= 0:
            return self
        tol = float(2.0 ** np.floor(np.log2(units_per_pixel)))
        hit = self._simplified.get(tol)
        if hit is None:
            simple = shapely.simplify(self.geoms, tol, preserve_topology=False)
            hit = GeometryCache(simple, index=False)
            if len(hit.ring_xy) + len(hit.line_xy) > 0.9 * n_vertices:
                hit = self
            if len(self._simplified) >= 6:
                self._simplified.pop(next(iter(self._simplified)))
            self._simplified[tol] = hit
        return hit

    # ------------------------------------------------------------------ queries
    def query_box(self, minx: float, miny: float, maxx: float, maxy: float, *, exact: bool = True) -> np.ndarray:
        """Rows whose geometry intersects the box (sorted); with ``exact=False`` bounding boxes only."""
        if len(self.geoms) == 0:
            return np.empty(0, dtype=np.int64)
        if self._rtree is not None:
            cand = np.fromiter(self._rtree.intersection((minx, miny, maxx, maxy)), dtype=np.int64)
        else:
            cand = self._tree.query(shapely.box(minx, miny, maxx, maxy)).astype(np.int64)
        cand = np.unique(cand)
        if exact and len(cand):
            cand = cand[shapely.intersects(self.geoms[cand], shapely.box(minx, miny, maxx, maxy))]
        return cand

    def query_geometry(self, geometry: object, *, predicate: str = "intersects") -> np.ndarray:
        """Rows for which ``predicate(row geometry, geometry)`` holds (sorted)."""
        if len(self.geoms) == 0 or geometry is None or shapely.is_empty(geometry):
            return np.empty(0, dtype=np.int64)
        minx, miny, maxx, maxy = shapely.bounds(geometry)
        cand = self.query_box(minx, miny, maxx, maxy, exact=False)
        if len(cand) == 0:
            return cand
        fn = getattr(shapely, predicate, None)
        if fn is None:
            raise ValueError(f"predicate {predicate!r} is unknown; expected a shapely predicate such as 'intersects'")
        return cand[fn(self.geoms[cand], geometry)]

    def query_point(self, x: float, y: float, tolerance: float = 0.0) -> np.ndarray:
        """Rows within ``tolerance`` map units of ``(x, y)``, nearest first (smaller polygons first on ties)."""
        if len(self.geoms) == 0:
            return np.empty(0, dtype=np.int64)
        cand = self.query_box(x - tolerance, y - tolerance, x + tolerance, y + tolerance, exact=False)
        if len(cand) == 0:
            return cand
        d = shapely.distance(self.geoms[cand], shapely.Point(x, y))
        ok = d <= tolerance
        cand, d = cand[ok], d[ok]
        area = shapely.area(self.geoms[cand])
        order = np.lexsort((area, d))
        return cand[order]

    # ------------------------------------------------------------------ editing
    def append(self, geometries: Iterable[object] | np.ndarray) -> np.ndarray:
        """Add rows at the end; returns their row positions.

        Live caches insert into the rtree; static caches rebuild their STRtree.
        """
        new = _as_geom_array(geometries)
        self._simplified.clear()
        start = len(self.geoms)
        self.geoms = np.concatenate([self.geoms, new])
        self._build_arrays()
        rows = np.arange(start, start + len(new), dtype=np.int64)
        if self._rtree is not None:
            for i in rows:
                b = self.bounds[i]
                if not np.isnan(b).any():
                    self._rtree.insert(int(i), tuple(b))
        else:
            self._tree = shapely.STRtree(self.geoms)
        return rows


def _as_geom_array(geometries: Iterable[object] | np.ndarray) -> np.ndarray:
    if hasattr(geometries, "values") and hasattr(geometries, "crs"):
        geometries = geometries.values  # GeoSeries → GeometryArray
    arr = np.asarray(geometries, dtype=object)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    return arr


def _part_bounds(xy: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    if len(offsets) <= 1:
        return np.empty((0, 4))
    starts = offsets[:-1]
    nonempty = offsets[1:] > starts
    out = np.full((len(starts), 4), np.nan)
    if nonempty.any():
        s = starts[nonempty]
        out[nonempty, 0] = np.minimum.reduceat(xy[:, 0], s)
        out[nonempty, 1] = np.minimum.reduceat(xy[:, 1], s)
        out[nonempty, 2] = np.maximum.reduceat(xy[:, 0], s)
        out[nonempty, 3] = np.maximum.reduceat(xy[:, 1], s)
    return out
