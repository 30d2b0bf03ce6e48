"""Reading GeoPackages: gridtool.io.read_layer vs geopandas.read_file(engine="fiona").

Cases: every layer of the sample district (sample_geodata/zhonglou.gpkg) and a generated
300k-point GeoPackage (id int64, Chinese text, float, int32, datetime; EPSG:4549),
written once into bench/data/ (gitignored). Our reader does more than the peer (CRS
checks, polygon repair), so the ratio is a fair lower bound. A second line compares
with geopandas' default engine (pyogrio without Arrow), for reference.

Run: .venv/bin/python bench/run.py --only io   (--quick: 50k points, 2 repeats)
"""
from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyogrio  # noqa: E402
import shapely  # noqa: E402
from _common import compare, quick  # noqa: E402

from gridtool.io import read_layer  # noqa: E402
from gridtool.paths import sample_gpkg_path  # noqa: E402

warnings.filterwarnings("ignore")


def points_gpkg(n: int) -> Path:
    """Generate (once) a GeoPackage of ``n`` random points in Zhonglou, EPSG:4549."""
    path = HERE / "data" / f"points_{n // 1000}k.gpkg"
    if path.exists():
        return path
    path.parent.mkdir(exist_ok=True)
    rng = np.random.default_rng(42)
    x = rng.uniform(480_000, 505_000, n)
    y = rng.uniform(3_505_000, 3_530_000, n)
    kinds = np.array(["生活垃圾", "建筑垃圾", "园林绿化垃圾", "有害垃圾"])
    gdf = gpd.GeoDataFrame(
        {
            "id": np.arange(n, dtype="int64"),
            "kind": kinds[rng.integers(0, 4, n)],
            "val": rng.random(n),
            "cnt": rng.integers(0, 1000, n).astype("int32"),
            "ts": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 86400 * 365, n), unit="s"),
        },
        geometry=shapely.points(x, y),
        crs=4549,
    )
    t0 = time.perf_counter()
    tmp = path.with_suffix(".tmp.gpkg")
    pyogrio.write_dataframe(gdf, tmp, layer="points", use_arrow=True)
    tmp.replace(path)
    print(f"(generated {path.relative_to(HERE.parent)} with {n:,} points in {time.perf_counter() - t0:.1f} s)")
    return path


def main() -> None:
    sample = sample_gpkg_path()
    layers = [str(n) for n, g in pyogrio.list_layers(sample) if g is not None]

    def ours_sample():
        for name in layers:
            read_layer(sample, name)

    def fiona_sample():
        for name in layers:
            gpd.read_file(sample, layer=name, engine="fiona")

    def pyogrio_sample():
        for name in layers:
            gpd.read_file(sample, layer=name, engine="pyogrio")

    n_feat = sum(pyogrio.read_info(sample, layer=n)["features"] for n in layers)
    compare(f"read sample gpkg ({len(layers)} layers, {n_feat:,} features)", ours_sample, fiona_sample,
            repeat=5, peer_name="geopandas+fiona")
    compare("read sample gpkg", ours_sample, pyogrio_sample, repeat=5, peer_name="geopandas+pyogrio")

    n = 50_000 if quick() else 300_000
    pts = points_gpkg(n)
    compare(f"read {n // 1000}k points gpkg", lambda: read_layer(pts, "points"),
            lambda: gpd.read_file(pts, layer="points", engine="fiona"),
            repeat=5, peer_repeat=3, peer_name="geopandas+fiona")
    compare(f"read {n // 1000}k points gpkg", lambda: read_layer(pts, "points"),
            lambda: gpd.read_file(pts, layer="points", engine="pyogrio"),
            repeat=5, peer_name="geopandas+pyogrio")


if __name__ == "__main__":
    main()
