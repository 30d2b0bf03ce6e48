"""Fixtures for the findings-store tests: a hand-drawn district, geotagged photos, stores.

The district is a 4 km square in EPSG:4549 split into two streets (west/east) and four
communities (quadrants), with an industrial park straddling the street boundary in the
north, so every location assignment has an exact answer.

The ``store`` fixture is built by a factory (``store_factory``) parametrised over
backends, the GeoPackage and PostgreSQL/PostGIS (a fresh schema per store on the
throwaway server of ``GRIDTOOL_TEST_PG``), so every findings test runs against each
backend unchanged. Tests of the GeoPackage file itself use ``gpkg_store``.
"""
from __future__ import annotations

import contextlib

import datetime as dt
import os
import re
import uuid
from fractions import Fraction
from pathlib import Path
from typing import Callable

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from gridtool.findings import FindingsStore

X0, Y0 = 490000.0, 3516000.0
"""South-west corner of the test district (EPSG:4549 metres)."""

CST = dt.timezone(dt.timedelta(hours=8))
_TO_LL = Transformer.from_crs(4549, 4326, always_xy=True)


def lonlat(dx: float, dy: float) -> tuple[float, float]:
    """WGS84 lon/lat of the point (X0 + dx, Y0 + dy)."""
    lon, lat = _TO_LL.transform(X0 + dx, Y0 + dy)
    return float(lon), float(lat)


def write_grids(path: Path) -> Path:
    """Write the test district's grid layers into a GeoPackage at ``path``."""
    def frame(rows: list[dict]) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(rows, geometry=[r.pop("geometry") for r in rows], crs=4549)

    district = frame([{"code": "320404", "name": "钟楼区", "level": "district", "geometry": box(X0, Y0, X0 + 4000, Y0 + 4000)}])
    streets = frame([
        {"code": "S1", "name": "西街道", "level": "street", "responsible_unit": "西街道办", "geometry": box(X0, Y0, X0 + 2000, Y0 + 4000)},
        {"code": "S2", "name": "东街道", "level": "street", "responsible_unit": "东街道办", "geometry": box(X0 + 2000, Y0, X0 + 4000, Y0 + 4000)},
    ])
    comms = frame([
        {"code": "S1C1", "name": "西南社区", "parent_code": "S1", "responsible_unit": "西南社区居委会", "geometry": box(X0, Y0, X0 + 2000, Y0 + 2000)},
        {"code": "S1C2", "name": "西北社区", "parent_code": "S1", "responsible_unit": "西北社区居委会", "geometry": box(X0, Y0 + 2000, X0 + 2000, Y0 + 4000)},
        {"code": "S2C1", "name": "东南村", "parent_code": "S2", "responsible_unit": "东南村委会", "geometry": box(X0 + 2000, Y0, X0 + 4000, Y0 + 2000)},
        {"code": "S2C2", "name": "东北村", "parent_code": "S2", "responsible_unit": "东北村委会", "geometry": box(X0 + 2000, Y0 + 2000, X0 + 4000, Y0 + 4000)},
    ])
    parks = frame([
        {"code": "P1", "name": "经开区", "responsible_unit": "钟楼经济开发区管委会", "geometry": box(X0 + 1500, Y0 + 3000, X0 + 2500, Y0 + 4000)},
    ])
    for name, gdf in (("grid_district", district), ("grid_street_town", streets),
                      ("grid_community_village", comms), ("grid_industrial_park", parks)):
        gdf.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def _rational(value: float) -> Fraction:
    return Fraction(value).limit_denominator(1000000)


def make_photo(path: Path, *, lon: float | None = None, lat: float | None = None,
               taken: dt.datetime | None = None, exif: bool = True, color: tuple[int, int, int] = (90, 120, 60)) -> Path:
    """Write a small JPEG with (optionally) EXIF GPS position and DateTimeOriginal."""
    from PIL import Image

    img = Image.new("RGB", (64, 48), color)
    if not exif:
        img.save(path, "JPEG")
        return path
    ex = Image.Exif()
    ex[0x010F] = "TestPhone"
    if taken is not None:
        ex.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
        if taken.tzinfo is not None:
            off = taken.utcoffset() or dt.timedelta(0)
            minutes = int(off.total_seconds() // 60)
            sign = "+" if minutes >= 0 else "-"
            ex.get_ifd(0x8769)[0x9011] = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if lon is not None and lat is not None:
        def dms(v: float) -> tuple[Fraction, Fraction, Fraction]:
            v = abs(v)
            d = int(v)
            m = int((v - d) * 60)
            s = (v - d - m / 60) * 3600
            return (Fraction(d), Fraction(m), _rational(s))

        gps = ex.get_ifd(0x8825)
        gps[1] = "N" if lat >= 0 else "S"
        gps[2] = dms(lat)
        gps[3] = "E" if lon >= 0 else "W"
        gps[4] = dms(lon)
    img.save(path, "JPEG", exif=ex)
    return path


@pytest.fixture(scope="session")
def grids_gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_grids(tmp_path_factory.mktemp("grids") / "grids.gpkg")


def _gpkg_factory(tmp_path: Path, grids: Path) -> Callable[..., FindingsStore]:
    def make(name: str = "store.gpkg", **kw) -> FindingsStore:
        return FindingsStore.open(tmp_path / name, grids=kw.pop("grids", grids), actor=kw.pop("actor", "tester"))

    return make


STORE_BACKENDS = ["gpkg", "postgres"]
"""Backends every findings test runs against: the GeoPackage and PostgreSQL/PostGIS."""

PG_ENV = "GRIDTOOL_TEST_PG"


def pg_url() -> str:
    """The throwaway server's URL; fails (never skips) the test when it is not running."""
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        where = "in CI (CI is set)" if os.environ.get("CI") else "here"
        pytest.fail(
            f"{PG_ENV} is not set {where}: the PostgreSQL/PostGIS tests need the throwaway server. Run the tests "
            "with 'bash scripts/run_tests.sh', or start one with 'eval \"$(bash scripts/pg_throwaway.sh start)\"'",
            pytrace=False,
        )
    return url


def pg_schema_url(schema: str) -> str:
    """The test server's URL for the store in ``schema``."""
    base = pg_url()
    return base + ("&" if "?" in base else "?") + "schema=" + schema


def drop_pg_schemas(schemas: list[str]) -> None:
    import psycopg

    if not schemas:
        return
    with psycopg.connect(pg_url(), autocommit=True) as con:
        for sch in schemas:
            con.execute(f'DROP SCHEMA IF EXISTS "{sch}" CASCADE')


def _pg_factory(tmp_path: Path, grids: Path, schemas: list[str]) -> Callable[..., FindingsStore]:
    """Each store name gets its own schema (unique to the test), so tests are isolated."""
    from gridtool.findings_pg import PostgresBackend

    prefix = "t" + uuid.uuid4().hex[:12]

    def make(name: str = "store.gpkg", **kw) -> FindingsStore:
        stem = re.sub(r"[^a-z0-9_]", "_", Path(name).stem.lower())[:30]
        schema = f"{prefix}_{stem}"
        if schema not in schemas:
            schemas.append(schema)
        backend = PostgresBackend(pg_schema_url(schema), photo_cache_dir=tmp_path / f"pg_photos_{stem}")
        return FindingsStore(backend, grids=kw.pop("grids", grids), actor=kw.pop("actor", "tester"))

    return make


@contextlib.contextmanager
def _closing_all(base: Callable[..., FindingsStore]):
    """Wrap a store factory so every store it made is closed at the end."""
    opened: list[FindingsStore] = []

    def make(*args, **kw) -> FindingsStore:
        s = base(*args, **kw)
        opened.append(s)
        return s

    try:
        yield make
    finally:
        for s in opened:
            s.close()


@pytest.fixture(params=STORE_BACKENDS)
def store_factory(request: pytest.FixtureRequest, tmp_path: Path, grids_gpkg: Path):
    schemas: list[str] = []
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        base = _pg_factory(tmp_path, grids_gpkg, schemas)
    else:
        base = _gpkg_factory(tmp_path, grids_gpkg)
    with _closing_all(base) as make:
        yield make
    drop_pg_schemas(schemas)


@pytest.fixture
def store(store_factory) -> FindingsStore:
    return store_factory()


@pytest.fixture
def gpkg_store_factory(tmp_path: Path, grids_gpkg: Path):
    """Stores that are GeoPackages (for tests of the file format itself)."""
    with _closing_all(_gpkg_factory(tmp_path, grids_gpkg)) as make:
        yield make


@pytest.fixture
def gpkg_store(gpkg_store_factory) -> FindingsStore:
    return gpkg_store_factory()
