"""HTML map export: 100,000 points (+ the sample district's grids) to one offline file.

Ours: :func:`gridtool.export.html_map.export_html_map` (compact JSON, inlined assets,
clustering on a canvas renderer). Peer: folium's plain output of the same layers
(``folium.GeoJson`` per layer, saved with ``Map.save``), the obvious way to do it.
Prints build medians and their ratio, file sizes, and the time Chromium needs to open
our file offline until the page reports ready (the peer's page is blank offline:
``L is not defined``). Targets: ≤ 15 MB, ≤ 5 s to open.

Run: ``.venv/bin/python bench/bench_html.py`` (or ``bench/run.py --only html``).
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import compare, quick  # noqa: E402
from gridtool.export.html_map import HtmlMapOptions, export_html_map  # noqa: E402
from gridtool.project import LayerSpec, open_any  # noqa: E402
from gridtool.styles import default_style  # noqa: E402
from tests.core.chromium_harness import open_page  # noqa: E402

N = 100_000


def main() -> None:
    repo = Path(__file__).resolve().parent.parent
    proj = open_any(repo / "sample_geodata" / "zhonglou.gpkg")
    grids = [proj.layer(n) for n in ("grid_district", "grid_street_town", "grid_community_village")]
    rng = np.random.default_rng(0)
    minx, miny, maxx, maxy = grids[0].gdf.total_bounds
    pts = gpd.GeoDataFrame(
        {"fac_id": [f"CP-{i:06d}" for i in range(N)], "name": [f"桶站{i}" for i in range(N)],
         "bins": rng.integers(2, 8, N)},
        geometry=gpd.points_from_xy(rng.uniform(minx, maxx, N), rng.uniform(miny, maxy, N)), crs=4549)
    points = LayerSpec(name="collection_points", kind="collection_points", style=default_style("collection_points"))
    points.gdf = pts
    layers = [*grids, points]
    tmp = Path(tempfile.mkdtemp())
    ours_path, peer_path = tmp / "ours.html", tmp / "folium.html"

    def ours() -> None:
        export_html_map(layers, ours_path, HtmlMapOptions(title="100k 桶站"))

    def peer() -> None:
        m = folium.Map(location=[31.78, 119.9], zoom_start=12)
        for l in layers:
            g = l.gdf.to_crs(4326)
            folium.GeoJson(g, name=l.title).add_to(m)
        folium.LayerControl().add_to(m)
        m.save(str(peer_path))

    compare(f"export {N:,} points + grids to HTML", ours, peer, repeat=3, peer_name="folium")
    print(f"file size: ours {ours_path.stat().st_size / 1e6:.1f} MB, folium {peer_path.stat().st_size / 1e6:.1f} MB "
          f"(target ours <= 15 MB)")

    empty = tmp / "empty.html"
    empty.write_text("<!doctype html><title>x</title>", encoding="utf-8")
    opens, in_page, base = [], [], []
    for _ in range(2 if quick() else 3):
        base.append(open_page(empty, budget_ms=100).seconds)
        run = open_page(ours_path, budget_ms=30000, timeout_s=180)
        if run.status.get("data-ready") != "1":
            print(f"ours did not report ready: {run.console_errors}")
            return
        opens.append(run.seconds)
        in_page.append(float(run.status.get("data-ms", "nan")) / 1000)
        counts = json.loads(run.status["data-counts"])
    print(f"open in Chromium offline: ours median {statistics.median(opens):.2f} s wall "
          f"(browser start-up alone {statistics.median(base):.2f} s; page ready at {statistics.median(in_page):.2f} s "
          f"of page time); features drawn {sum(counts.values()):,} (target <= 5 s)")
    peer_run = open_page(peer_path, budget_ms=3000)
    print(f"folium plain output offline: ready={peer_run.status.get('data-ready', 'no')}, "
          f"console errors: {len(peer_run.console_errors)} ({(peer_run.console_errors or ['-'])[0][:90]})")


if __name__ == "__main__":
    main()
