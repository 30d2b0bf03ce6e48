"""Patrol road share per grid: gridtool.patrol.patrol_coverage vs a per-grid geopandas buffer + overlay.

Data: the sample district's 3,293 road lines and its street + community + park grids
(``sample_geodata/zhonglou.gpkg``), and synthetic GPS tracks that follow randomly chosen
roads (points every 5 m with ±3 m noise; 400 tracks, 100 in quick mode), all within the
30-day window. Both sides compute, per grid, the road km and the road km within 50 m
of a track. Ours does it with one STRtree pairing of roads × grids, one buffer union of
the tracks and one pairing of road pieces × buffer parts (and also computes km patrolled
and last patrolled); the peer is what a geopandas user would write: per grid,
``gpd.overlay`` of the roads with the grid, then of those with the union of the buffers
of the tracks that touch the grid. The largest difference in road share is printed.

Run: ``.venv/bin/python bench/bench_patrol.py`` (or ``bench/run.py --only patrol``).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyogrio  # noqa: E402
import shapely  # noqa: E402

from _common import compare, quick  # noqa: E402
from gridtool.kinds import WORK_EPSG  # noqa: E402
from gridtool.paths import sample_gpkg_path  # noqa: E402
from gridtool.patrol import patrol_coverage  # noqa: E402

BUFFER_M = 50.0
NOW = "2026-03-31T18:00:00+08:00"


def load():
    path = sample_gpkg_path()
    grids = pd.concat(
        [pyogrio.read_dataframe(path, layer=k).assign(level=k)
         for k in ("grid_street_town", "grid_community_village", "grid_industrial_park")],
        ignore_index=True)
    grids = gpd.GeoDataFrame(grids[["code", "name", "level", "geometry"]], geometry="geometry", crs=WORK_EPSG)
    roads = pyogrio.read_dataframe(path, layer="roads")[["road_id", "geometry"]]
    return grids, roads


def make_tracks(roads: gpd.GeoDataFrame, n: int, seed: int = 7) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(roads), size=n, replace=False)
    geoms = []
    for i in picks:
        line = roads.geometry.iloc[i]
        d = np.arange(0.0, line.length, 5.0)
        pts = shapely.get_coordinates(shapely.line_interpolate_point(line, d))
        pts = pts + rng.normal(0, 3.0, pts.shape)
        if len(pts) < 2:
            pts = shapely.get_coordinates(line)
        geoms.append(shapely.LineString(pts))
    t0 = pd.Timestamp("2026-03-10T08:00:00+08:00")
    starts = [t0 + pd.Timedelta(hours=int(h)) for h in rng.integers(0, 400, n)]
    return gpd.GeoDataFrame({
        "track_id": [f"T{k}" for k in range(n)],
        "started_at": [s.isoformat() for s in starts],
        "ended_at": [(s + pd.Timedelta(hours=1)).isoformat() for s in starts],
    }, geometry=geoms, crs=WORK_EPSG)


def naive(tracks, grids, roads) -> pd.DataFrame:
    buffers = gpd.GeoDataFrame(geometry=tracks.buffer(BUFFER_M), crs=WORK_EPSG)
    rows = []
    for code, geom in zip(grids["code"], grids.geometry):
        grid = gpd.GeoDataFrame(geometry=[geom], crs=WORK_EPSG)
        in_grid = gpd.overlay(roads, grid, how="intersection", keep_geom_type=True)
        road_km = in_grid.length.sum() / 1000
        near = buffers[buffers.intersects(geom)]
        if len(near) and len(in_grid):
            zone = gpd.GeoDataFrame(geometry=[near.union_all()], crs=WORK_EPSG)
            covered = gpd.overlay(in_grid, zone, how="intersection", keep_geom_type=True).length.sum() / 1000
        else:
            covered = 0.0
        rows.append((code, road_km, covered))
    out = pd.DataFrame(rows, columns=["code", "road_km", "road_km_covered"])
    out["road_share"] = np.where(out["road_km"] > 0, out["road_km_covered"] / out["road_km"].where(out["road_km"] > 0, 1), np.nan)
    return out


def main() -> None:
    grids, roads = load()
    n = 100 if quick() else 400
    tracks = make_tracks(roads, n)
    ours_res = patrol_coverage(tracks, grids, roads, days=30, now=NOW, buffer_m=BUFFER_M)
    peer_res = naive(tracks, grids, roads)
    diff = np.nanmax(np.abs(ours_res["road_share"].to_numpy() - peer_res["road_share"].to_numpy()))
    print(f"{len(grids)} grids, {len(roads)} roads, {n} tracks ({int(shapely.get_num_coordinates(tracks.geometry).sum())} points); "
          f"max |road share difference| ours vs peer = {diff:.5f}; mean road share {ours_res['road_share'].mean():.3f}")
    compare(
        f"patrol road share, {len(grids)} grids x {len(roads)} roads x {n} tracks",
        lambda: patrol_coverage(tracks, grids, roads, days=30, now=NOW, buffer_m=BUFFER_M),
        lambda: naive(tracks, grids, roads),
        repeat=5,
        peer_repeat=3,
        peer_name="per-grid overlay",
    )


if __name__ == "__main__":
    main()
