"""Builds a corpus of broken and awkward GIS files into a folder at test time.

Each builder takes a folder and returns the path of the file it wrote (nothing binary
is committed). Coordinates are in Zhonglou: lon ≈ 119.90–119.96, lat ≈ 31.75–31.79,
i.e. EPSG:4549 x ≈ 490–496 km, y ≈ 3514–3518 km.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

# three stations: name, lon, lat (WGS84) and their EPSG:4549 coordinates
NAMES = ["钟楼转运站", "五星转运站", "北港转运站"]
LON = np.array([119.95, 119.90, 119.93])
LAT = np.array([31.78, 31.75, 31.77])


def stations_lonlat() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"名称": NAMES, "规模(t/d)": [150.0, 80.0, 120.0], "编码": ["320404001", "320404002", "320404003"]},
        geometry=shapely.points(LON, LAT),
        crs=4326,
    )


def stations_4549() -> gpd.GeoDataFrame:
    return stations_lonlat().to_crs(4549)


def grids_4549() -> gpd.GeoDataFrame:
    x0, y0 = 490_000.0, 3_514_000.0
    polys = [shapely.box(x0 + i * 1000, y0, x0 + (i + 1) * 1000, y0 + 1000) for i in range(3)]
    return gpd.GeoDataFrame(
        {"code": ["S1", "S2", "S3"], "name": ["南大街", "荷花池", "新闸"], "population": [100, 200, 300]},
        geometry=polys,
        crs=4549,
    )


def _write(gdf: gpd.GeoDataFrame, path: Path, **kw) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # laundered shapefile field names, missing CRS on purpose
        pyogrio.write_dataframe(gdf, path, **kw)
    return path


# ------------------------------------------------------------------ good files
def good_gpkg(folder: Path) -> Path:
    p = folder / "good.gpkg"
    _write(stations_4549(), p, layer="transfer_stations")
    _write(grids_4549(), p, layer="grid_street_town")
    return p


def xlsx_lonlat(folder: Path) -> Path:
    p = folder / "stations.xlsx"
    df = pd.DataFrame({"名称": NAMES, "经度": LON, "纬度": LAT, "能力(t/d)": [150, 80, 120]})
    df.to_excel(p, index=False, sheet_name="转运站")
    return p


def csv_lonlat(folder: Path) -> Path:
    p = folder / "stations.csv"
    pd.DataFrame({"名称": NAMES, "经度": LON, "纬度": LAT}).to_csv(p, index=False)
    return p


def csv_gcj02(folder: Path) -> Path:
    from gridtool.crs import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(LON, LAT)
    p = folder / "amap.csv"
    pd.DataFrame({"name": NAMES, "lng": glon, "lat": glat}).to_csv(p, index=False)
    return p


def gpx_file(folder: Path) -> Path:
    p = folder / "patrol.gpx"
    pts = "\n".join(
        f'<trkpt lat="{la}" lon="{lo}"><time>2026-03-01T0{i}:00:00Z</time></trkpt>'
        for i, (lo, la) in enumerate(zip(LON, LAT))
    )
    wpts = "\n".join(f'<wpt lat="{la}" lon="{lo}"><name>{n}</name></wpt>' for n, lo, la in zip(NAMES, LON, LAT))
    p.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">\n'
        f"{wpts}\n<trk><name>巡查1</name><trkseg>\n{pts}\n</trkseg></trk>\n</gpx>\n",
        encoding="utf-8",
    )
    return p


def kml_file(folder: Path) -> Path:
    p = folder / "points.kml"
    marks = "\n".join(
        f"<Placemark><name>{n}</name><Point><coordinates>{lo},{la},0</coordinates></Point></Placemark>"
        for n, lo, la in zip(NAMES, LON, LAT)
    )
    p.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>\n'
        f"<Folder><name>转运站</name>\n{marks}\n</Folder></Document></kml>\n",
        encoding="utf-8",
    )
    return p


# ------------------------------------------------------------------ broken / awkward files
def truncated_gpkg(folder: Path) -> Path:
    src_dir = folder / "_src"
    src_dir.mkdir(exist_ok=True)
    src = good_gpkg(src_dir)
    data = src.read_bytes()
    p = folder / "truncated.gpkg"
    p.write_bytes(data[: len(data) // 3])
    return p


def not_sqlite_gpkg(folder: Path) -> Path:
    p = folder / "fake.gpkg"
    p.write_text("name,lon,lat\nx,1,2\n", encoding="utf-8")
    return p


def shp_without_shx(folder: Path) -> Path:
    p = folder / "noshx.shp"
    _write(stations_4549(), p)
    os.remove(p.with_suffix(".shx"))
    return p


def malformed_geojson(folder: Path) -> Path:
    p = folder / "broken.geojson"
    p.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "a"}, '
        '"geometry": {"type": "Point", "coordinates": [119.9, 31.7]}}, {"type": "Feat',
        encoding="utf-8",
    )
    return p


def csv_text_in_coords(folder: Path) -> Path:
    p = folder / "textcoords.csv"
    p.write_text(
        "名称,经度,纬度\n钟楼转运站,119.95,31.78\n五星转运站,东经119度,31.75\n北港转运站,119.93,31.77\n",
        encoding="utf-8",
    )
    return p


def csv_swapped(folder: Path) -> Path:
    """Columns labelled lon/lat but holding lat/lon."""
    p = folder / "swapped.csv"
    pd.DataFrame({"名称": NAMES, "经度": LAT, "纬度": LON}).to_csv(p, index=False)
    return p


def geojson_swapped(folder: Path) -> Path:
    p = folder / "swapped.geojson"
    g = stations_lonlat()
    g = g.set_geometry(shapely.points(LAT, LON), crs=4326)
    _write(g, p)
    return p


def shp_no_crs_metres(folder: Path) -> Path:
    p = folder / "noprj.shp"
    _write(stations_4549().set_crs(None, allow_override=True), p)
    assert not p.with_suffix(".prj").exists()
    return p


def shp_no_crs_lonlat(folder: Path) -> Path:
    p = folder / "noprj_lonlat.shp"
    _write(stations_lonlat().set_crs(None, allow_override=True), p)
    return p


def csv_metres_no_crs(folder: Path) -> Path:
    p = folder / "metres.csv"
    g = stations_4549()
    pd.DataFrame({"名称": NAMES, "x": g.geometry.x, "y": g.geometry.y}).to_csv(p, index=False)
    return p


def shp_gbk_no_cpg(folder: Path) -> Path:
    p = folder / "gbk.shp"
    _write(stations_4549(), p, encoding="gbk")
    os.remove(p.with_suffix(".cpg"))
    return p


def shp_latin1_no_cpg(folder: Path) -> Path:
    """Attribute bytes that are neither UTF-8 nor GBK text (cp1252 'café', 'Ê')."""
    p = folder / "latin.shp"
    g = gpd.GeoDataFrame({"nom": ["café", "crème", "Ê"]}, geometry=stations_4549().geometry.array, crs=4549)
    _write(g, p, encoding="cp1252")
    os.remove(p.with_suffix(".cpg"))
    return p


def gpkg_self_intersecting(folder: Path) -> Path:
    p = folder / "bowtie.gpkg"
    g = grids_4549()
    x0, y0 = 492_000.0, 3_514_000.0
    bowtie = shapely.Polygon([(x0, y0), (x0 + 1000, y0 + 1000), (x0 + 1000, y0), (x0, y0 + 1000)])
    g.loc[2, "geometry"] = bowtie
    _write(g, p, layer="grid_street_town")
    return p


def gpkg_empty_layer(folder: Path) -> Path:
    p = folder / "empty.gpkg"
    _write(stations_4549().iloc[:0], p, layer="transfer_stations")
    return p


def gpkg_4528_labelled_4549(folder: Path) -> Path:
    p = folder / "zone40.gpkg"
    g = stations_4549()
    g = g.set_geometry(shapely.transform(g.geometry.array, lambda c: c + [40_000_000.0, 0.0]), crs=4549)
    _write(g, p, layer="transfer_stations")
    return p


def gpkg_4549_labelled_4528(folder: Path) -> Path:
    p = folder / "noprefix.gpkg"
    _write(stations_4549().set_crs(4528, allow_override=True), p, layer="transfer_stations")
    return p


def gpkg_two_layers(folder: Path) -> Path:
    p = folder / "two.gpkg"
    _write(stations_4549(), p, layer="a")
    _write(stations_4549(), p, layer="b")
    return p


def geojson_grids_missing_code(folder: Path) -> Path:
    """Grid polygons lacking the required 'code' column and with text in 'population'."""
    p = folder / "grids_bad.geojson"
    g = grids_4549().drop(columns=["code"]).to_crs(4326)
    g["population"] = ["100", "many", "300"]
    _write(g, p)
    return p


def geojson_points_as_grids(folder: Path) -> Path:
    p = folder / "points.geojson"
    _write(stations_lonlat(), p)
    return p
