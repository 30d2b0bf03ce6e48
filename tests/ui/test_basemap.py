"""Basemap tiles: fetched from a local tile server, cached on disk, drawn in the right place."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import http.server
import socket
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from pyproj import Transformer
from PyQt6.QtGui import QColor, QImage, QPainter

from layers.viewport import Viewport
from ui.basemap import (
    TIANDITU_LONLAT,
    WEB_MERCATOR,
    BasemapLayer,
    affine_from_quad,
    load_key,
    make_source,
    save_key,
    tile_url,
)

# Zhonglou district centre in EPSG:4549 metres
CX, CY = 495264.0, 3517459.0
GREY = QColor("#dddddd")
RED = QColor("#ff0000")
MARK = (40, 56)  # tile pixels x, y of the centre of the red mark (8 × 8 px) in the marked tile


def _png(colour: QColor, mark: bool = False) -> bytes:
    from PyQt6.QtCore import QBuffer, QIODevice

    img = QImage(256, 256, QImage.Format.Format_RGB32)
    img.fill(colour)
    if mark:
        for yy in range(MARK[1] - 4, MARK[1] + 4):
            for xx in range(MARK[0] - 4, MARK[0] + 4):
                img.setPixelColor(xx, yy, RED)
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(buf.data().data())


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves ``<root>/<z>/<x>/<y>.png``; WMTS GetTile queries are mapped onto that folder."""

    hits: list[str]

    def translate_path(self, path: str) -> str:
        parts = urlsplit(path)
        q = parse_qs(parts.query)
        if "TILEMATRIX" in q:
            assert q.get("tk") == ["test-key"], "the Tianditu key must reach the server"
            path = f"/{q['LAYER'][0]}/{q['TILEMATRIX'][0]}/{q['TILECOL'][0]}/{q['TILEROW'][0]}.png"
        return super().translate_path(path)

    def do_GET(self) -> None:  # noqa: N802
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        super().do_GET()

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture()
def tile_server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = lambda *a, **k: _Handler(*a, directory=str(root), **k)  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.hits = []
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield root, f"http://127.0.0.1:{srv.server_address[1]}", srv
    srv.shutdown()
    srv.server_close()


def _fill_tiles(root: Path, layer: BasemapLayer, vp: Viewport, sub: str = "") -> tuple[int, int, int]:
    """Write grey tiles for every tile of the view; mark the centre tile; return it."""
    plan = layer.plan(vp)
    assert plan is not None and len(plan.xs) >= 4
    i = int(np.argmin((plan.quads.mean(axis=1)[:, 0] - vp.width / 2) ** 2 + (plan.quads.mean(axis=1)[:, 1] - vp.height / 2) ** 2))
    marked = (plan.z, int(plan.xs[i]), int(plan.ys[i]))
    grey, red = _png(GREY), _png(GREY, mark=True)
    for x, y in zip(plan.xs, plan.ys):
        p = root / sub / str(plan.z) / str(int(x)) / f"{int(y)}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(red if (plan.z, int(x), int(y)) == marked else grey)
    return marked


def _render(layer: BasemapLayer, vp: Viewport) -> QImage:
    img = QImage(vp.width, vp.height, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QColor("white"))
    p = QPainter(img)
    layer.paint(p, vp)
    p.end()
    return img


def _red_centroid(img: QImage) -> tuple[float, float]:
    ptr = img.constBits()
    ptr.setsize(img.sizeInBytes())
    a = np.frombuffer(ptr, np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)[:, : img.width()]
    b, g, r = a[..., 0].astype(int), a[..., 1].astype(int), a[..., 2].astype(int)
    mask = (r > 200) & (g < 120) & (b < 120)
    assert mask.sum() > 20, "the red mark of the marked tile was not drawn"
    ys, xs = np.nonzero(mask)
    return float(xs.mean()) + 0.5, float(ys.mean()) + 0.5  # pixel centres


def _expected_screen(grid, z: int, x: int, y: int, vp: Viewport) -> tuple[float, float]:
    """Where the centre of the mark must appear: tile pixel → tile CRS → EPSG:4549 → screen."""
    s = grid.span(z)
    tx = grid.origin_x + x * s + MARK[0] / 256 * s
    ty = grid.origin_y - y * s - MARK[1] / 256 * s
    mx, my = Transformer.from_crs(grid.epsg, 4549, always_xy=True).transform(tx, ty)
    sx, sy = vp.to_screen(mx, my)
    return float(sx), float(sy)


def _wait_all(qtbot, layer: BasemapLayer, vp: Viewport) -> None:
    assert layer.wait_for_tiles(vp, timeout_ms=10000), layer.last_error


def test_xyz_tiles_fetched_cached_and_drawn_in_place(qtbot, tile_server, tmp_path):
    root, base, srv = tile_server
    cache = tmp_path / "cache"
    vp = Viewport(CX, CY, 4.0, 640, 480)  # 4 m/px ≈ zoom 15 tiles
    layer = BasemapLayer(cache_dir=cache)
    layer.set_source("xyz", url=base + "/{z}/{x}/{y}.png")
    z, x, y = _fill_tiles(root, layer, vp)

    with qtbot.waitSignal(layer.changed, timeout=10000):
        _render(layer, vp)  # first paint: nothing cached, requests go out
    _wait_all(qtbot, layer, vp)
    assert srv.hits, "tiles were requested from the server"
    n_tiles = len(layer.plan(vp).xs)
    cached = list((cache).rglob("*.png"))
    assert len(cached) == n_tiles
    assert any(p.parts[-3:] == (str(z), str(x), f"{y}.png") for p in cached)

    img = _render(layer, vp)
    got = _red_centroid(img)
    want = _expected_screen(WEB_MERCATOR, z, x, y, vp)
    assert abs(got[0] - want[0]) <= 1.0 and abs(got[1] - want[1]) <= 1.0, (got, want)
    # grey tiles cover the whole view: no white gaps between tiles
    assert img.pixelColor(vp.width // 2 + 3, 5).name() == GREY.name()

    # a second layer on the same cache draws everything without touching the network
    hits_before = len(srv.hits)
    layer2 = BasemapLayer(cache_dir=cache)
    layer2.set_source("xyz", url=base + "/{z}/{x}/{y}.png")
    img2 = _render(layer2, vp)
    assert len(srv.hits) == hits_before and layer2.network_requests == 0
    assert layer2.disk_hits == n_tiles
    got2 = _red_centroid(img2)
    assert abs(got2[0] - want[0]) <= 1.0 and abs(got2[1] - want[1]) <= 1.0


def test_tianditu_lonlat_tiles_with_key_via_mirror(qtbot, tile_server, tmp_path):
    """The CGCS2000 lon/lat (_c) tile set, requested with Tianditu's WMTS query and the key."""
    root, base, srv = tile_server
    vp = Viewport(CX, CY, 6.0, 600, 400)
    layer = BasemapLayer(cache_dir=tmp_path / "cache")
    layer.set_source("tianditu_vec_c", url=base, key="test-key", annotation=False)
    z, x, y = _fill_tiles(root, layer, vp, sub="vec")
    _render(layer, vp)
    _wait_all(qtbot, layer, vp)
    assert all("TILEMATRIXSET=c" in h and "LAYER=vec" in h for h in srv.hits)
    got = _red_centroid(_render(layer, vp))
    want = _expected_screen(TIANDITU_LONLAT, z, x, y, vp)
    assert abs(got[0] - want[0]) <= 1.0 and abs(got[1] - want[1]) <= 1.0, (got, want)
    # the key never reaches the cache paths or the project dictionary
    assert "test-key" not in str(layer.to_project_dict())
    assert not any("test-key" in str(p) for p in (tmp_path / "cache").rglob("*"))


def test_failing_server_leaves_the_map_working(qtbot, tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens on this port any more
    vp = Viewport(CX, CY, 4.0, 320, 240)
    layer = BasemapLayer(cache_dir=tmp_path / "cache")
    layer.set_source("xyz", url=f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png")
    with qtbot.waitSignal(layer.failed, timeout=10000) as blocker:
        img = _render(layer, vp)
    assert "127.0.0.1" in blocker.args[0]
    qtbot.waitUntil(lambda: layer.pending_count() == 0, timeout=10000)
    assert layer.wait_for_tiles(vp, timeout_ms=2000) is False
    # painting still works, draws nothing and does not re-request failed tiles at once
    requests = layer.network_requests
    img = _render(layer, vp)
    assert layer.network_requests == requests
    assert img.pixelColor(160, 120).name() == "#ffffff"
    assert not list((tmp_path / "cache").rglob("*.png"))


def test_no_key_or_none_draws_nothing_and_fetches_nothing(qtbot, tmp_path):
    layer = BasemapLayer(cache_dir=tmp_path)
    vp = Viewport(CX, CY, 4.0, 200, 100)
    for provider, key in (("none", None), ("tianditu_vec_w", None), ("tianditu_img_w", "")):
        layer.set_source(provider, key=key)
        assert not layer.is_active()
        img = QImage(vp.width, vp.height, QImage.Format.Format_ARGB32_Premultiplied)
        painter = QPainter(img)
        assert layer.paint(painter, vp) == 0
        painter.end()
    assert layer.network_requests == 0


def test_sources_and_urls():
    src = make_source("tianditu_img_w", key="k")
    assert [lyr.cache_name for lyr in src.layers] == ["tianditu_img_w", "tianditu_cia_w"]
    url = tile_url(src.layers[0].url_template, 14, 13633, 6640, key="k")
    assert url.startswith("http://t") and ".tianditu.gov.cn/img_w/wmts?" in url
    assert "LAYER=img" in url and "TILEMATRIXSET=w" in url
    assert "TILEMATRIX=14&TILEROW=6640&TILECOL=13633&tk=k" in url
    assert tile_url("https://{s}.tile.example.org/{z}/{x}/{-y}.png", 2, 1, 0) == "https://b.tile.example.org/2/1/3.png"
    assert tile_url("http://t{0-7}.example.cn/{z}/{x}/{y}", 3, 4, 5) == "http://t1.example.cn/3/4/5"
    with pytest.raises(ValueError, match="lacks"):
        make_source("xyz", url="https://example.org/tiles/{z}.png")
    with pytest.raises(ValueError, match="http"):
        make_source("xyz", url="file:///etc/{z}/{x}/{y}")
    with pytest.raises(ValueError, match="unknown"):
        make_source("google")
    # Web Mercator zoom for ~ 4.8 m/px is 15 (156543 / 2**15 = 4.78 m/px)
    assert WEB_MERCATOR.zoom_for(4.78) == 15
    # Tianditu c level 1 has 2 × 1 tiles of 180°
    assert TIANDITU_LONLAT.columns(1) == 2 and TIANDITU_LONLAT.rows(1) == 1


@pytest.mark.parametrize("grid", [WEB_MERCATOR, TIANDITU_LONLAT], ids=["3857", "4490"])
def test_affine_warp_accuracy(grid):
    """Per-tile affine warp vs the exact transform of every 32nd tile pixel: < 0.3 px at zoom 10–18."""
    to_tile = Transformer.from_crs(4549, grid.epsg, always_xy=True)
    back = Transformer.from_crs(grid.epsg, 4549, always_xy=True)
    tx, ty = to_tile.transform(CX, CY)
    worst = {}
    for z in range(10, 19):
        s = grid.span(z)
        x, y = int((tx - grid.origin_x) // s), int((grid.origin_y - ty) // s)
        mpp = s / 256 * (1.0 if grid.epsg == 3857 else 111_000.0) * 0.85  # tile drawn about 1:1
        vp = Viewport(CX, CY, mpp, 1000, 1000)
        x0, y0 = grid.origin_x + x * s, grid.origin_y - y * s
        corners = np.array([[x0, y0], [x0 + s, y0], [x0 + s, y0 - s], [x0, y0 - s]])
        mx, my = back.transform(corners[:, 0], corners[:, 1])
        quad = np.column_stack(vp.to_screen(np.asarray(mx), np.asarray(my)))
        t, _ = affine_from_quad(np.array([[0, 0], [256, 0], [256, 256], [0, 256]], float), quad)
        u, v = np.meshgrid(np.arange(0, 257, 32.0), np.arange(0, 257, 32.0))
        u, v = u.ravel(), v.ravel()
        ex, ey = back.transform(x0 + u / 256 * s, y0 - v / 256 * s)
        sx, sy = vp.to_screen(np.asarray(ex), np.asarray(ey))
        ax = t.m11() * u + t.m21() * v + t.dx()
        ay = t.m12() * u + t.m22() * v + t.dy()
        worst[z] = float(np.max(np.hypot(ax - sx, ay - sy)))
    assert max(worst.values()) < 0.3, worst
    assert worst[14] < 0.03, worst  # the district view


def test_key_lives_in_qsettings_not_in_the_project(tmp_path):
    from PyQt6.QtCore import QSettings

    settings = QSettings(str(tmp_path / "gridtool.ini"), QSettings.Format.IniFormat)
    save_key("abc123", settings)
    assert load_key(settings) == "abc123"
    layer = BasemapLayer(cache_dir=tmp_path)
    layer.apply_project_dict({"provider": "tianditu_vec_w", "key": "leaked?"}, settings=settings)
    assert layer.source.key == "abc123" and layer.is_active()
    assert layer.to_project_dict() == {"provider": "tianditu_vec_w", "annotation": True}
    save_key("", settings)
    assert load_key(settings) == ""


def test_basemap_dialog_stores_key_in_settings_and_applies_source(qtbot, tmp_path):
    from PyQt6.QtCore import QSettings

    from ui.basemap_dialog import BasemapDialog

    settings = QSettings(str(tmp_path / "gridtool.ini"), QSettings.Format.IniFormat)
    layer = BasemapLayer(cache_dir=tmp_path)
    dlg = BasemapDialog(layer, settings=settings)
    qtbot.addWidget(dlg)
    dlg.provider_combo.setCurrentIndex(dlg.provider_combo.findData("tianditu_img_c"))
    assert dlg.key_edit.isEnabled()
    dlg.key_edit.setText("  my-key ")
    dlg.annotation.setChecked(False)
    dlg.apply()
    assert load_key(settings) == "my-key"
    assert layer.provider == "tianditu_img_c" and layer.is_active() and len(layer.source.layers) == 1
    assert layer.to_project_dict() == {"provider": "tianditu_img_c", "annotation": False}
    dlg.provider_combo.setCurrentIndex(dlg.provider_combo.findData("xyz"))
    dlg.url_edit.setText("https://example.org/tiles/{z}.png")
    with pytest.raises(ValueError, match="lacks"):
        dlg.apply()
    assert layer.provider == "tianditu_img_c"  # unchanged after bad input
