"""Findings store: adding one finding (committed) and importing 10,000, vs GeoDataFrame.to_file(mode="a").

Targets (issue): one add <= 10 ms committed; a 10,000-finding import <= 5 s.
Peer: the obvious geopandas way, appending each finding to a GeoPackage layer with
``GeoDataFrame.to_file(path, layer="findings", mode="a")`` (pyogrio). The peer has no
ids, grid lookup, deadline, history or duplicate check; it only writes the row.
For the 10,000 import the peer is timed on 200 appends and extrapolated linearly
(x50), as stated in the output.

Both run on the sample district (``sample_geodata/zhonglou.gpkg``, 109 community grids),
with points drawn uniformly inside it. Our store uses WAL + ``synchronous=FULL``
(fsync at every commit).

Run: ``.venv/bin/python bench/bench_findings.py`` (``BENCH_QUICK=1`` for a short pass).
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pyogrio  # noqa: E402
import shapely  # noqa: E402
from pyproj import Transformer  # noqa: E402

from _common import compare, fmt_seconds, quick, timed  # noqa: E402
from gridtool.findings import FindingsStore, NewFinding  # noqa: E402
from gridtool.paths import sample_gpkg_path  # noqa: E402


def _points(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    district = pyogrio.read_dataframe(sample_gpkg_path(), layer="grid_district").geometry.union_all()
    minx, miny, maxx, maxy = district.bounds
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    while sum(len(a) for a in xs) < n:
        x = rng.uniform(minx, maxx, n)
        y = rng.uniform(miny, maxy, n)
        keep = shapely.contains_xy(district, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
    x = np.concatenate(xs)[:n]
    y = np.concatenate(ys)[:n]
    return Transformer.from_crs(4549, 4326, always_xy=True).transform(x, y)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench_findings_"))
    n_add = 50 if quick() else 200
    n_import = 2000 if quick() else 10_000
    n_peer = 50 if quick() else 200
    lons, lats = _points(max(n_add, n_import, n_peer))
    try:
        # -- one add ------------------------------------------------------------------
        store = FindingsStore.open(tmp / "ours.gpkg", actor="bench")
        store.add(lon=lons[0], lat=lats[0], category="household", finding_type="other")  # grids loaded, warm
        it = iter(range(1, len(lons)))

        def ours_one() -> None:
            i = next(it)
            store.add(lon=float(lons[i]), lat=float(lats[i]), category="household", finding_type="illegal_dumping",
                      description="bench", inspector="bench")

        peer_path = tmp / "peer.gpkg"
        cols = {"finding_id": "x", "category": "household", "finding_type": "illegal_dumping", "status": "registered",
                "description": "bench", "inspector": "bench", "found_at": "2026-03-02T09:30:00+08:00"}
        to_xy = Transformer.from_crs(4326, 4549, always_xy=True)
        gpd.GeoDataFrame([cols], geometry=gpd.points_from_xy(*to_xy.transform([lons[0]], [lats[0]])), crs=4549).to_file(
            peer_path, layer="findings", engine="pyogrio")
        pit = iter(range(1, len(lons)))

        def peer_one() -> None:
            i = next(pit)
            x, y = to_xy.transform([lons[i]], [lats[i]])
            gpd.GeoDataFrame([cols], geometry=gpd.points_from_xy(x, y), crs=4549).to_file(
                peer_path, layer="findings", mode="a", engine="pyogrio")

        compare("add one finding (committed, synchronous=FULL)", ours_one, peer_one, repeat=n_add,
                peer_name="to_file(mode='a')")
        store.close()
        store = FindingsStore.open(tmp / "ours_normal.gpkg", actor="bench", durability="normal")
        store.add(lon=lons[0], lat=lats[0], category="household", finding_type="other")
        compare("add one finding (committed, durability='normal')", ours_one, peer_one, repeat=n_add,
                peer_name="to_file(mode='a')")
        store.close()

        # -- import 10,000 -------------------------------------------------------------
        items = [NewFinding(category="household", finding_type="illegal_dumping", lon=float(lons[i]), lat=float(lats[i]),
                            description=f"row {i}", inspector="bench", found_at="2026-03-02 09:30")
                 for i in range(n_import)]
        runs = {"k": 0}

        def fresh_store() -> None:
            runs["k"] += 1

        def ours_import() -> None:
            with FindingsStore.open(tmp / f"imp{runs['k']}.gpkg", actor="bench") as s:
                ids = s.add_many(items)
                assert len(ids) == n_import

        ours_t = timed(ours_import, 1 if quick() else 3, setup=fresh_store)
        peer_file = tmp / "peer_imp.gpkg"

        def peer_import() -> None:
            shutil.copy(peer_path, peer_file)
            for i in range(n_peer):
                x, y = to_xy.transform([lons[i]], [lats[i]])
                gpd.GeoDataFrame([cols], geometry=gpd.points_from_xy(x, y), crs=4549).to_file(
                    peer_file, layer="findings", mode="a", engine="pyogrio")

        peer_t = timed(peer_import, 1)
        ours_s = statistics.median(ours_t)
        peer_s = statistics.median(peer_t) * (n_import / n_peer)
        print(
            f"import {n_import} findings: ours median {fmt_seconds(ours_s)}, to_file(mode='a') per finding "
            f"{fmt_seconds(peer_s)} (extrapolated from {n_peer} appends x{n_import // n_peer}), "
            f"ratio to_file(mode='a')/ours {peer_s / ours_s:.1f} (repeat {len(ours_t)}/1)",
            flush=True,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
