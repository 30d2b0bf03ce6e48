"""Build the sample district ``sample_geodata/zhonglou.gpkg`` from the reference data.

Run ``.venv/bin/python sample_geodata/build_zhonglou.py [OUT.gpkg]``.

Real inputs (``sample_geodata/refdata/``, see ``refdata/SOURCES.md``): the district outline,
the 8 街道/镇 and 109 社区/村 with their NBS 2016 codes, 51 community points and 8 street
centre points (all Vonng/adcode, CC BY 4.0, AMap-derived, converted to WGS84) and 4
approximate reference points. Everything else (street and community polygons, population,
roads, facilities, findings, tracks) is synthetic and only plausible; see ``README.md``.

The build is deterministic: fixed random seeds, sorted outputs, no clock values. Every
layer is in EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E). The output is written to
a temporary file beside the target and then moved over it with :func:`os.replace`.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import shapely
import shapely.prepared
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString, MultiPoint, Point, Polygon

HERE = Path(__file__).resolve().parent
REFDATA = HERE / "refdata"
DEFAULT_OUT = HERE / "zhonglou.gpkg"

WORK_EPSG = 4549
GRID_M = 0.01  # every coordinate is snapped to this grid (metres)
DISTRICT_CODE = "320404000000"
ZOUQU_CODE = "320404116000"
TOTAL_POPULATION = 668_500
ZOUQU_POPULATION = 47_800  # sources: 34,463 (registered, year unknown); town is growing
PEOPLE_PER_HOUSEHOLD = 2.6
ZOUQU_VILLAGE_MAX_LON = 119.86  # SOURCES.md: place 邹区镇 villages west of about 119.86°E
# 邹区镇 villages left without any collection point on purpose (coverage gaps to find)
GAP_VILLAGES = ("320404116229", "320404116230")  # 新屋村, 林场村

LAYER_ORDER = [
    "grid_district", "grid_street_town", "grid_community_village", "grid_industrial_park",
    "roads", "transfer_stations", "collection_points", "recycling_points",
    "hazardous_collection_points", "construction_waste_sites", "garden_waste_stations",
    "candidate_sites", "findings", "patrol_tracks",
]

__all__ = ["build", "main", "LAYER_ORDER", "DISTRICT_CODE"]


# --------------------------------------------------------------------------- helpers
def _rng(tag: str) -> np.random.Generator:
    """A generator seeded from a fixed tag (stable across runs and platforms)."""
    seed = sum((i + 1) * ord(ch) for i, ch in enumerate(tag)) + 20260101
    return np.random.default_rng(seed)


def _snap(geom):
    return shapely.set_precision(geom, GRID_M)


def _hamilton(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    quota = w / w.sum() * total
    base = np.floor(quota).astype(np.int64)
    rest = int(total - base.sum())
    order = np.lexsort((np.arange(len(w)), -(quota - base)))
    base[order[:rest]] += 1
    return base


def _largest_polygon(geom):
    parts = list(shapely.get_parts(geom))
    return max(parts, key=lambda g: g.area)


def _single_or_multi(geom):
    geom = shapely.make_valid(geom)
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area > 0]
    if not polys:
        return Polygon()
    if len(polys) == 1:
        return polys[0]
    return shapely.MultiPolygon(polys)


def _merge_small_parts(geoms: list, min_share: float = 0.15, min_area_m2: float = 300_000.0) -> list:
    """Give each detached small part of a polygon to the neighbour sharing the longest border.

    The collection keeps its union; only ownership of small detached pieces changes, so
    that most units end up as one single Polygon.
    """
    geoms = [shapely.make_valid(g) for g in geoms]
    for _ in range(3):
        changed = False
        for i in range(len(geoms)):
            parts = sorted(shapely.get_parts(geoms[i]), key=lambda g: -g.area)
            parts = [p for p in parts if p.geom_type == "Polygon"]
            if len(parts) < 2:
                continue
            keep = [parts[0]]
            for p in parts[1:]:
                if p.area >= min_area_m2 and p.area >= min_share * parts[0].area:
                    keep.append(p)
                    continue
                best, best_len = None, 0.0
                for j in range(len(geoms)):
                    if j == i:
                        continue
                    shared = shapely.intersection(p.boundary, geoms[j].buffer(0.05)).length
                    if shared > best_len:
                        best, best_len = j, shared
                if best is None or best_len <= 0.0:
                    keep.append(p)
                    continue
                geoms[best] = shapely.union(geoms[best], p, grid_size=GRID_M)
                changed = True
            geoms[i] = shapely.union_all(keep, grid_size=GRID_M)
        if not changed:
            break
    return geoms


# --------------------------------------------------------------------------- inputs
def _load_inputs() -> dict:
    boundary = gpd.read_file(REFDATA / "zhonglou_boundary_wgs84.geojson").to_crs(WORK_EPSG)
    divisions = pd.read_csv(REFDATA / "zhonglou_divisions.csv", dtype=str, keep_default_na=False)
    centres = gpd.read_file(REFDATA / "zhonglou_street_centres_wgs84.geojson").to_crs(WORK_EPSG)
    cpoints = gpd.read_file(REFDATA / "zhonglou_community_points_wgs84.geojson").to_crs(WORK_EPSG)
    refpts = gpd.read_file(REFDATA / "zhonglou_reference_points_approx_wgs84.geojson").to_crs(WORK_EPSG)
    outline = _largest_polygon(shapely.make_valid(boundary.geometry.union_all()))
    outline = _largest_polygon(_snap(outline))
    to_work = Transformer.from_crs(4326, WORK_EPSG, always_xy=True)
    lon_x, _ = to_work.transform(ZOUQU_VILLAGE_MAX_LON, 31.79)
    return {
        "outline": outline,
        "divisions": divisions.sort_values("code").reset_index(drop=True),
        "centres": centres.sort_values("code").reset_index(drop=True),
        "cpoints": cpoints.sort_values("code").reset_index(drop=True),
        "refpts": refpts.set_index("id"),
        "zouqu_max_x": float(lon_x),
    }


# --------------------------------------------------------------------------- grids
def _voronoi_cells(xy: np.ndarray, extent) -> list:
    cells = shapely.voronoi_polygons(MultiPoint([tuple(p) for p in xy]), extend_to=extent, ordered=True)
    return list(shapely.get_parts(cells))


def _faces(outline, lines: list) -> list:
    """Faces of the noded arrangement of ``lines`` and the outline: an exact partition of it.

    All linework is noded on the 1 cm grid, so neighbouring faces share identical edges
    and unions of faces nest without gaps or overlaps.
    """
    clip = outline.buffer(20)
    parts = [outline.exterior] + [shapely.intersection(g, clip) for g in lines]
    net = shapely.union_all([g for g in parts if not g.is_empty], grid_size=GRID_M)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(net)))
    prepared = shapely.prepared.prep(outline)
    return [f for f in faces if f.area > 0 and prepared.contains(f.representative_point())]


def _group_union(faces: list, labels: list, keys: list) -> list:
    return [shapely.union_all([f for f, lab in zip(faces, labels) if lab == k], grid_size=GRID_M) for k in keys]


def _street_polygons(inp: dict) -> dict[str, object]:
    """Stage 1: Voronoi of community points + street centres, dissolved by street."""
    outline = inp["outline"]
    seeds = [(g.x, g.y, pc) for g, pc in zip(inp["cpoints"].geometry, inp["cpoints"]["parent_code"])]
    seeds += [(g.x, g.y, c) for g, c in zip(inp["centres"].geometry, inp["centres"]["code"])]
    xy = np.array([(x, y) for x, y, _ in seeds])
    cells = _voronoi_cells(xy, outline.buffer(5000))
    faces = _faces(outline, [c.exterior for c in cells])
    reps = shapely.points([f.representative_point().coords[0] for f in faces])
    owner = shapely.STRtree(np.array(cells, dtype=object)).query(reps, predicate="within")
    label = {}
    for fi, ci in zip(*owner):
        label.setdefault(int(fi), seeds[int(ci)][2])
    labels = [label[i] for i in range(len(faces))]
    codes = sorted({c for _, _, c in seeds})
    polys = _merge_small_parts(_group_union(faces, labels, codes), min_share=0.5, min_area_m2=3_000_000.0)
    return {code: p for code, p in zip(codes, polys)}


def _place_seeds(inp: dict, streets: dict[str, object]) -> dict[str, Point]:
    """Real points where the source has one; the rest placed at random with min spacing."""
    div = inp["divisions"]
    comm = div[div["level"] == "community_village"]
    seeds: dict[str, Point] = {c: g for c, g in zip(inp["cpoints"]["code"], inp["cpoints"].geometry)}
    centre = {c: g for c, g in zip(inp["centres"]["code"], inp["centres"].geometry)}
    placed_xy = [(p.x, p.y) for p in seeds.values()]
    zouqu_west = shapely.intersection(
        streets[ZOUQU_CODE], shapely.box(-1e7, -1e7, inp["zouqu_max_x"], 1e8))
    taicun = seeds.get("320404116218")
    for row in comm.itertuples(index=False):
        if row.code in seeds:
            continue
        street = streets[row.parent_code]
        rng = _rng("seed" + row.code)
        if row.parent_code == ZOUQU_CODE:
            if row.kind == "社区" and row.code in ("320404116001", "320404116005"):
                area, spacing = shapely.intersection(centre[ZOUQU_CODE].buffer(2000), street), 700.0
            elif row.code == "320404116004" and taicun is not None:  # 泰村社区 beside 泰村
                area, spacing = shapely.intersection(taicun.buffer(2000), street), 600.0
            else:
                area, spacing = zouqu_west, 1500.0
            area = area.buffer(-400) if area.buffer(-400).area > 0 else area
        else:
            area, spacing = street.buffer(-120), 300.0
        minx, miny, maxx, maxy = area.bounds
        prepared = shapely.prepared.prep(area)
        found = None
        tries = 0
        while found is None:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            tries += 1
            if tries % 400 == 0:
                spacing *= 0.85
            p = Point(x, y)
            if not prepared.contains(p):
                continue
            d = np.min(np.hypot(np.array(placed_xy)[:, 0] - x, np.array(placed_xy)[:, 1] - y))
            if d >= spacing:
                found = Point(round(x, 2), round(y, 2))
        seeds[row.code] = found
        placed_xy.append((found.x, found.y))
    return seeds


def _community_polygons(inp: dict, streets: dict, seeds: dict[str, Point]) -> dict[str, object]:
    """Stage 2: each street re-split by a Voronoi on its own community seeds."""
    div = inp["divisions"]
    comm = div[div["level"] == "community_village"]
    street_codes = sorted(streets)
    by_street = {sc: sorted(comm.loc[comm["parent_code"] == sc, "code"]) for sc in street_codes}
    lines = [shapely.get_exterior_ring(p) for g in streets.values() for p in shapely.get_parts(g)]
    for sc in street_codes:
        xy = np.array([(seeds[c].x, seeds[c].y) for c in by_street[sc]])
        for cell in _voronoi_cells(xy, streets[sc].buffer(5000)):
            lines.append(shapely.intersection(cell.exterior, streets[sc].buffer(5)))
    faces = _faces(inp["outline"], lines)
    reps = [f.representative_point() for f in faces]
    st_tree = shapely.STRtree(np.array([streets[sc] for sc in street_codes], dtype=object))
    labels = []
    for rp in reps:
        hits = sorted(int(h) for h in st_tree.query(rp, predicate="within"))
        if not hits:
            hits = [int(st_tree.nearest(rp))]
        sc = street_codes[hits[0]]
        codes = by_street[sc]
        d = [rp.distance(seeds[c]) for c in codes]
        labels.append(codes[int(np.argmin(d))])
    out: dict[str, object] = {}
    for sc in street_codes:
        codes = by_street[sc]
        polys = _merge_small_parts(_group_union(faces, labels, codes), min_share=0.6, min_area_m2=1_000_000.0)
        for code, poly in zip(codes, polys):
            out[code] = _single_or_multi(poly)
    return out


def _inspector_names(n: int, tag: str) -> list[str]:
    surnames = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程")
    given = list("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国红梅玉兰文斌辉晨宇浩婷雪琳")
    rng = _rng(tag)
    names = []
    for _ in range(n):
        s = surnames[rng.integers(len(surnames))]
        g = "".join(given[k] for k in rng.integers(len(given), size=int(rng.integers(1, 3))))
        names.append(s + g)
    return names


def _population(comm_df: pd.DataFrame) -> np.ndarray:
    """Residents per community: exact totals, dense old city, sparse villages."""
    rng = _rng("population")
    area = comm_df["area_km2"].to_numpy()
    jitter = rng.lognormal(0.0, 0.22, len(comm_df))
    factor = comm_df["ur_code"].map({"111": 1.0, "112": 0.55, "220": 0.32}).fillna(0.5).to_numpy()
    zq = (comm_df["parent_code"] == ZOUQU_CODE).to_numpy()
    pop = np.zeros(len(comm_df), dtype=np.int64)
    # old city: bigger cells hold more people, but sub-linearly (edges have parks, rivers, works)
    w_old = np.sqrt(np.clip(area[~zq], 0.15, None)) * factor[~zq] * jitter[~zq]
    pop[~zq] = _hamilton(w_old, TOTAL_POPULATION - ZOUQU_POPULATION)
    is_comm = (comm_df["community_kind"] == "社区").to_numpy()[zq]
    w_zq = np.where(is_comm, 2.2, 1.0) * factor[zq] ** 0.5 * jitter[zq] * np.clip(area[zq], 2, 8) ** 0.3
    pop[zq] = _hamilton(w_zq, ZOUQU_POPULATION)
    return pop


def _grids(inp: dict) -> tuple[dict[str, gpd.GeoDataFrame], dict]:
    div = inp["divisions"]
    streets1 = _street_polygons(inp)
    seeds = _place_seeds(inp, streets1)
    comm_geom = _community_polygons(inp, streets1, seeds)

    comm = div[div["level"] == "community_village"].copy()
    comm["name_official"] = comm["name"]
    comm["name"] = comm["short_name"].map(lambda s: re.sub(r"（.*?）", "", s))
    comm["community_kind"] = comm["kind"]
    comm["responsible_unit"] = np.where(
        comm["kind"] == "社区", comm["name"] + "居委会", comm["name"] + "村民委员会")
    comm["geometry"] = comm["code"].map(comm_geom)
    comm = gpd.GeoDataFrame(comm, geometry="geometry", crs=WORK_EPSG).sort_values("code").reset_index(drop=True)
    comm["area_km2"] = (comm.geometry.area / 1e6).round(4)
    comm["population"] = _population(comm)
    ratio = _rng("households").uniform(2.45, 2.8, len(comm))
    comm["households"] = np.rint(comm["population"] / ratio).astype(np.int64)
    comm["inspector"] = _inspector_names(len(comm), "inspectors-community")
    comm["seed_source"] = np.where(comm["lng_wgs84"] != "", "real point (Vonng/adcode)", "synthetic placement")
    comm["seed_x"] = [seeds[c].x for c in comm["code"]]
    comm["seed_y"] = [seeds[c].y for c in comm["code"]]

    st = div[div["level"] == "street_town"].copy().sort_values("code").reset_index(drop=True)
    st["geometry"] = [
        _single_or_multi(shapely.union_all(comm.geometry[comm["parent_code"] == c].to_numpy(), grid_size=GRID_M))
        for c in st["code"]]
    st = gpd.GeoDataFrame(st, geometry="geometry", crs=WORK_EPSG)
    st["responsible_unit"] = np.where(st["kind"] == "镇", st["name"] + "人民政府", st["name"] + "办事处")
    st["population"] = [int(comm.loc[comm["parent_code"] == c, "population"].sum()) for c in st["code"]]
    st["households"] = [int(comm.loc[comm["parent_code"] == c, "households"].sum()) for c in st["code"]]
    st["area_km2"] = (st.geometry.area / 1e6).round(4)
    st["inspector"] = _inspector_names(len(st), "inspectors-street")
    st["code_mca_2026"] = st["code9_mca_2026"]

    d = div[div["level"] == "district"].copy().reset_index(drop=True)
    d["geometry"] = [_single_or_multi(shapely.union_all(st.geometry.to_numpy(), grid_size=GRID_M))]
    d = gpd.GeoDataFrame(d, geometry="geometry", crs=WORK_EPSG)
    d["responsible_unit"] = "钟楼区人民政府"
    d["population"] = int(st["population"].sum())
    d["households"] = int(st["households"].sum())
    d["area_km2"] = (d.geometry.area / 1e6).round(4)
    d["inspector"] = _inspector_names(1, "inspectors-district")

    base_cols = ["code", "name", "level", "parent_code", "responsible_unit", "inspector",
                 "population", "households", "area_km2"]
    out = {
        "grid_district": d[base_cols + ["geometry"]],
        "grid_street_town": st[base_cols + ["code_mca_2026", "geometry"]],
        "grid_community_village": comm[base_cols + [
            "community_kind", "ur_class", "ur_code", "name_official", "seed_source", "geometry"]],
    }
    return out, {"seeds": seeds, "comm": comm, "streets": st, "district": d}


def _blob(center: Point, rx: float, ry: float, tag: str, n: int = 16) -> Polygon:
    rng = _rng(tag)
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False) + rng.uniform(0, 0.2)
    r = rng.uniform(0.8, 1.15, n)
    xs = center.x + rx * r * np.cos(ang)
    ys = center.y + ry * r * np.sin(ang)
    return Polygon(zip(xs, ys))


def _parks(inp: dict, district, zouqu) -> gpd.GeoDataFrame:
    ref = inp["refpts"].geometry
    kfq = ref["park_zlkfq"]
    town = ref["park_zlgxy"]
    specs = [
        ("320404-P01", "钟楼经济开发区", "钟楼经济开发区管委会", _blob(kfq, 1700, 1300, "park1")),
        ("320404-P02", "钟楼高新园(邹区镇)", "钟楼高新园管委会(邹区镇人民政府)",
         _blob(Point(town.x - 300, town.y + 900), 2000, 1300, "park2")),
        ("320404-P03", "钟楼静脉产业园", "钟楼静脉产业园管理办公室",
         _blob(Point(town.x - 5200, town.y - 2300), 650, 480, "park3")),
        ("320404-P04", "邹区灯具特色产业聚集区", "邹区灯具城管理委员会",
         _blob(Point(town.x - 2300, town.y - 900), 800, 560, "park4")),
    ]
    geoms = []
    taken = Polygon()
    for code, _, _, g in specs:
        g = shapely.intersection(g, district if code == "320404-P01" else zouqu).difference(taken)
        g = _single_or_multi(_snap(g))
        taken = shapely.union(taken, g)
        geoms.append(g)
    gdf = gpd.GeoDataFrame({
        "code": [s[0] for s in specs], "name": [s[1] for s in specs], "level": "industrial_park",
        "parent_code": DISTRICT_CODE, "responsible_unit": [s[2] for s in specs],
        "inspector": _inspector_names(len(specs), "inspectors-park"),
    }, geometry=geoms, crs=WORK_EPSG)
    gdf["population"] = 0
    gdf["households"] = 0
    gdf["area_km2"] = (gdf.geometry.area / 1e6).round(4)
    gdf["extent_note"] = "synthetic outline around an approximate point; real extent unknown"
    cols = ["code", "name", "level", "parent_code", "responsible_unit", "inspector", "population",
            "households", "area_km2", "extent_note", "geometry"]
    return gdf[cols]


# --------------------------------------------------------------------------- roads
EW_ARTERIALS = ["中吴大道", "长虹路", "勤业路", "劳动西路", "延陵西路", "怀德北路", "龙城大道", "新龙路",
                "青洋路", "玉龙路", "通江路"]
NS_ARTERIALS = ["通江中路", "怀德南路", "清潭路", "星港路", "龙江路", "长江路", "西林路", "钟楼大道", "邹区大道",
                "腾龙大道", "礼河路", "卜弋路", "泰村路", "殷村路", "岳溪路", "杏塘路", "安基路", "西环路"]
NAMED_ZOUQU_EW = {0: "340省道", 1: "长虹西路", 2: "312国道"}
LOCAL_STEMS = list("富康安宁和顺兴隆丰泰永福新春怀德清凉博爱化龙勤俭广成荆川西新嘉泽文昌梧桐桂花玉兰")


def _road_network(inp: dict, district, streets: gpd.GeoDataFrame, seeds: dict, parks: gpd.GeoDataFrame):
    """Perturbed lattice: 250 m locals, 1.25 km arterials (old city), sparser in 邹区镇."""
    step = 250.0
    minx, miny, maxx, maxy = district.bounds
    x0, y0 = np.floor(minx / step) * step - step, np.floor(miny / step) * step - step
    nx_, ny_ = int((maxx - x0) / step) + 3, int((maxy - y0) / step) + 3
    ii, jj = np.meshgrid(np.arange(nx_), np.arange(ny_), indexing="ij")
    bx, by = x0 + ii * step, y0 + jj * step
    wx = 90 * np.sin(2 * np.pi * by / 2300 + 0.7) + 55 * np.sin(2 * np.pi * bx / 3700 + 1.9)
    wy = 80 * np.sin(2 * np.pi * bx / 2700 + 0.3) + 50 * np.sin(2 * np.pi * by / 4100 + 2.2)
    rng = _rng("lattice")
    jx = rng.normal(0, 22, ii.shape)
    jy = rng.normal(0, 22, ii.shape)
    on_v = ii % 5 == 0  # node lies on a vertical main line: keep x smooth
    on_h = jj % 5 == 0
    jx[on_v] = 0.0
    jy[on_h] = 0.0
    X = np.round(bx + wx + jx, 2)
    Y = np.round(by + wy + jy, 2)

    zouqu = streets.set_index("code").geometry[ZOUQU_CODE]
    zq_prep = shapely.prepared.prep(zouqu)
    settle = [seeds[c].buffer(520) for c in sorted(seeds) if c.startswith("320404116")]
    settle.append(inp["refpts"].geometry["park_zlgxy"].buffer(1700))
    settle.extend(parks.geometry.tolist())
    settle_prep = shapely.prepared.prep(shapely.union_all(settle))
    dist_prep = shapely.prepared.prep(district.buffer(300))

    # village access roads: from each 邹区镇 seed along its lattice row and column, so that
    # every village patch reaches the main network
    short = dict(zip(inp["divisions"]["code"], inp["divisions"]["short_name"]))
    access: dict[tuple[bool, int, int], str] = {}
    for code in sorted(seeds):
        if not code.startswith("320404116"):
            continue
        si = int(round((seeds[code].x - x0) / step))
        sj = int(round((seeds[code].y - y0) / step))
        road = re.sub(r"（.*?）", "", short[code]).removesuffix("社区").removesuffix("村") + "村道"
        for k in range(-7, 8):
            access.setdefault((True, si + k, sj), road)
            access.setdefault((False, si, sj + k), road)

    rng_e = _rng("edges")
    lines, attrs = [], []
    zq_ew_rows = sorted({int(j) for j in range(ny_) if j % 10 == 0})
    zq_named = {}
    mid_rows = [j for j in zq_ew_rows if miny < y0 + j * step < maxy]
    for k, j in enumerate(mid_rows[:3]):
        zq_named[j] = NAMED_ZOUQU_EW[k]

    def main_name(horizontal: bool, idx: int) -> str:
        names = EW_ARTERIALS if horizontal else NS_ARTERIALS
        return names[(idx // 5) % len(names)]

    def local_name(horizontal: bool, idx: int, i_other: int) -> str:
        stem = LOCAL_STEMS[(idx * 7 + (i_other // 5) * 3 + (0 if horizontal else 11)) % len(LOCAL_STEMS)]
        stem2 = LOCAL_STEMS[(idx * 5 + (i_other // 5) * 13 + 5) % len(LOCAL_STEMS)]
        return f"{stem}{stem2}{'路' if horizontal else '巷'}"

    for horizontal in (True, False):
        if horizontal:
            a_i, a_j, b_i, b_j = ii[:-1, :], jj[:-1, :], ii[1:, :], jj[1:, :]
        else:
            a_i, a_j, b_i, b_j = ii[:, :-1], jj[:, :-1], ii[:, 1:], jj[:, 1:]
        for ai, aj, bi, bj in zip(a_i.ravel(), a_j.ravel(), b_i.ravel(), b_j.ravel()):
            p, q = (X[ai, aj], Y[ai, aj]), (X[bi, bj], Y[bi, bj])
            mid = Point((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)
            u = rng_e.random()
            if not dist_prep.contains(mid):
                continue
            line_idx = aj if horizontal else ai
            other_idx = ai if horizontal else aj
            in_zq = zq_prep.contains(mid)
            if in_zq:
                if line_idx % 10 == 0:
                    cls = "arterial"
                elif line_idx % 5 == 0:
                    cls = "secondary" if u > 0.2 else None
                else:
                    cls = "local" if settle_prep.contains(mid) and u > 0.1 else None
            else:
                if line_idx % 5 == 0:
                    cls = "arterial"
                elif line_idx % 5 == 2:
                    cls = "secondary"
                else:
                    cls = "local" if u > 0.07 else None
            village_road = access.get((horizontal, int(ai), int(aj))) if in_zq else None
            if village_road is not None and cls in (None, "local"):
                lines.append(LineString([p, q]))
                attrs.append(("local", village_road, 30.0))
                continue
            if cls is None:
                continue
            if cls == "arterial":
                if in_zq and horizontal and line_idx in zq_named:
                    name = zq_named[line_idx]
                else:
                    name = main_name(horizontal, line_idx)
                speed = 60.0 if name.endswith(("国道", "省道")) else 50.0
            elif cls == "secondary":
                name, speed = local_name(horizontal, line_idx, 0).replace("巷", "路"), 40.0
            else:
                name, speed = local_name(horizontal, line_idx, other_idx), 25.0 if not in_zq else 30.0
            lines.append(LineString([p, q]))
            attrs.append((cls, name, speed))

    lines = shapely.intersection(np.array(lines, dtype=object), district)
    src = gpd.GeoDataFrame({"road_class": [a[0] for a in attrs], "name": [a[1] for a in attrs],
                            "speed_kmh": [a[2] for a in attrs]}, geometry=lines, crs=WORK_EPSG)
    src = src[~src.geometry.is_empty].explode(index_parts=False).reset_index(drop=True)
    src = src[src.geometry.geom_type == "LineString"].reset_index(drop=True)
    # node everything on the 1 cm grid, then recover attributes from the source line underneath
    noded = shapely.get_parts(shapely.union_all(src.geometry.to_numpy(), grid_size=GRID_M))
    noded = [g for g in noded if g.geom_type == "LineString" and g.length > 0.05]
    mids = shapely.line_interpolate_point(np.array(noded, dtype=object), 0.5, normalized=True)
    tree = shapely.STRtree(src.geometry.to_numpy())
    nearest = tree.nearest(mids)
    roads = gpd.GeoDataFrame(src.drop(columns="geometry").iloc[nearest].reset_index(drop=True),
                             geometry=noded, crs=WORK_EPSG)
    roads = _largest_component(roads)
    # deterministic order: by class, then by position
    c = roads.geometry.centroid
    roads = roads.assign(_k=roads["road_class"].map({"arterial": 0, "secondary": 1, "local": 2}),
                         _x=c.x.round(2), _y=c.y.round(2))
    roads = roads.sort_values(["_k", "_y", "_x"]).drop(columns=["_k", "_x", "_y"]).reset_index(drop=True)
    roads.insert(0, "road_id", [f"R{i + 1:05d}" for i in range(len(roads))])
    roads["length_m"] = roads.geometry.length.round(2)
    return roads[["road_id", "name", "road_class", "speed_kmh", "length_m", "geometry"]]


def _endpoint_graph(geoms) -> tuple[np.ndarray, np.ndarray, int]:
    coords = shapely.get_coordinates(shapely.get_point(np.asarray(geoms, dtype=object), 0))
    coords2 = shapely.get_coordinates(shapely.get_point(np.asarray(geoms, dtype=object), -1))
    keys = {}
    a = np.empty(len(coords), dtype=np.int64)
    b = np.empty(len(coords), dtype=np.int64)
    for k, (p, q) in enumerate(zip(np.round(coords, 2), np.round(coords2, 2))):
        a[k] = keys.setdefault((p[0], p[1]), len(keys))
        b[k] = keys.setdefault((q[0], q[1]), len(keys))
    return a, b, len(keys)


def _largest_component(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    a, b, n = _endpoint_graph(roads.geometry.to_numpy())
    m = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, labels = connected_components(m, directed=False)
    main = np.bincount(labels).argmax()
    return roads[labels[a] == main].reset_index(drop=True)


# --------------------------------------------------------------------------- facilities
class _Locator:
    """Spatial-join helper for street / community / park codes and nearby road names."""

    def __init__(self, streets, comm, parks, roads):
        self.streets, self.comm, self.parks, self.roads = streets, comm, parks, roads
        self.road_tree = shapely.STRtree(roads.geometry.to_numpy())

    def codes(self, pts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        out = pts.copy()
        for col, layer in (("street_code", self.streets), ("community_code", self.comm), ("park_code", self.parks)):
            j = gpd.sjoin(out[["geometry"]], layer[["code", "geometry"]], how="left", predicate="within")
            j = j[~j.index.duplicated(keep="first")]
            out[col] = j["code"].reindex(out.index)
        return out

    def road_name(self, p: Point) -> str:
        k = self.road_tree.nearest(p)
        return str(self.roads["name"].iloc[int(k)])


def _point_near_road(rng, roads_in: gpd.GeoDataFrame, poly, offset=(5.0, 12.0), tries=200):
    prepared = shapely.prepared.prep(poly)
    geoms = roads_in.geometry.to_numpy()
    if len(geoms) == 0:
        return None
    lengths = np.array([g.length for g in geoms])
    prob = lengths / lengths.sum()
    for _ in range(tries):
        g = geoms[rng.choice(len(geoms), p=prob)]
        d = rng.uniform(0.1, 0.9) * g.length
        p = g.interpolate(d)
        q = g.interpolate(min(d + 1.0, g.length))
        dx, dy = q.x - p.x, q.y - p.y
        norm = np.hypot(dx, dy) or 1.0
        off = rng.uniform(*offset) * (1 if rng.random() < 0.5 else -1)
        cand = Point(round(p.x - dy / norm * off, 2), round(p.y + dx / norm * off, 2))
        if prepared.contains(cand):
            return cand
    return None


def _roads_within(roads: gpd.GeoDataFrame, poly, classes=None) -> gpd.GeoDataFrame:
    idx = roads.sindex.query(poly, predicate="intersects")
    sub = roads.iloc[np.sort(idx)]
    if classes is not None:
        pref = sub[sub["road_class"].isin(classes)]
        if len(pref):
            sub = pref
    return sub


def _fac_frame(rows: list[dict], prefix_cols: list[str], loc: _Locator, id_col="fac_id") -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=WORK_EPSG)
    gdf = loc.codes(gdf)
    gdf = gdf.sort_values(id_col).reset_index(drop=True)
    return gdf[prefix_cols + ["geometry"]]


FAC_BASE = ["fac_id", "name", "street_code", "community_code", "status", "address"]


def _collection_points(ctx, loc: _Locator) -> gpd.GeoDataFrame:
    comm = ctx["comm"]
    roads = ctx["roads"]
    rows = []
    k = 0
    for r in comm.itertuples(index=False):
        if r.code in GAP_VILLAGES:
            continue
        rng = _rng("cp" + r.code)
        per = 430 if r.parent_code != ZOUQU_CODE else 330
        n = max(1, int(round(r.households / per)))
        poly = r.geometry
        if r.community_kind == "村":
            poly = shapely.intersection(poly, Point(r.seed_x, r.seed_y).buffer(900))
        sub = _roads_within(roads, poly, classes=("local",))
        served = _hamilton(np.full(n, 1.0) * rng.uniform(0.8, 1.2, n), int(r.households))
        placed: list[Point] = []
        for m in range(n):
            p = None
            for _ in range(20):
                c = _point_near_road(rng, sub, poly)
                if c is None:
                    break
                if all(c.distance(o) >= 60 for o in placed):
                    p = c
                    break
                p = c
            if p is None:
                continue
            placed.append(p)
            k += 1
            big = r.community_kind == "社区" and rng.random() < 0.35
            rows.append({
                "fac_id": f"CP-{k:04d}",
                "name": f"{r.name}{'箱房' if big else '桶站'}{m + 1}号",
                "status": "existing",
                "address": f"{loc.road_name(p)}附近",
                "point_type": "箱房" if big else "桶站",
                "bins": int(rng.integers(4, 9) if big else rng.integers(2, 5)),
                "households_served": int(served[m]),
                "geometry": p,
            })
    return _fac_frame(rows, FAC_BASE + ["point_type", "bins", "households_served"], loc)


def _recycling_points(ctx, loc: _Locator) -> gpd.GeoDataFrame:
    comm = ctx["comm"]
    roads = ctx["roads"]
    counts = np.ones(len(comm), dtype=np.int64) + _hamilton(comm["households"].to_numpy(), 130 - len(comm))
    rows = []
    k = 0
    for r, n in zip(comm.itertuples(index=False), counts):
        rng = _rng("rp" + r.code)
        poly = r.geometry
        if r.community_kind == "村":
            poly = shapely.intersection(poly, Point(r.seed_x, r.seed_y).buffer(900))
        sub = _roads_within(roads, poly)
        for m in range(int(n)):
            p = _point_near_road(rng, sub, poly, offset=(6.0, 14.0))
            if p is None:
                continue
            k += 1
            kind = "两网融合点" if m == 0 and r.community_kind == "社区" else "回收服务点"
            rows.append({"fac_id": f"RP-{k:04d}", "name": f"{r.name}再生资源回收点{m + 1}",
                         "status": "existing", "address": f"{loc.road_name(p)}附近",
                         "point_type": kind, "geometry": p})
    return _fac_frame(rows, FAC_BASE + ["point_type"], loc)


def _near_road_at(loc: _Locator, target: Point, rng, poly=None) -> Point:
    """A point about 15 m off the road nearest to ``target``."""
    k = int(loc.road_tree.nearest(target))
    g = loc.roads.geometry.iloc[k]
    d = g.project(target)
    p = g.interpolate(d)
    q = g.interpolate(min(d + 1.0, g.length)) if d + 1.0 <= g.length else g.interpolate(max(d - 1.0, 0))
    dx, dy = q.x - p.x, q.y - p.y
    norm = np.hypot(dx, dy) or 1.0
    for sign in (1, -1):
        c = Point(round(p.x - dy / norm * 15 * sign, 2), round(p.y + dx / norm * 15 * sign, 2))
        if poly is None or poly.contains(c):
            return c
    return Point(round(p.x, 2), round(p.y, 2))


def _transfer_stations(ctx, loc: _Locator) -> gpd.GeoDataFrame:
    comm = ctx["comm"].set_index("code")
    rng = _rng("ts")
    specs = [  # community, name, t/d, mode
        ("320404001004", "五星生活垃圾压缩转运站", 200.0, "水平压缩"),
        ("320404002005", "永红生活垃圾压缩转运站", 120.0, "水平压缩"),
        ("320404007003", "新闸生活垃圾转运站", 90.0, "竖式压缩"),
        ("320404004002", "西林生活垃圾转运站", 100.0, "竖式压缩"),
        ("320404116005", "邹区镇生活垃圾压缩转运站", 80.0, "水平压缩"),
    ]
    rows = []
    for k, (code, name, cap, mode) in enumerate(specs, start=1):
        r = comm.loc[code]
        target = shapely.Point(r["seed_x"], r["seed_y"])
        p = _near_road_at(loc, target, rng, r.geometry)
        size = "小型" if cap < 150 else ("中型" if cap <= 450 else "大型")
        rows.append({"fac_id": f"TS-{k:02d}", "name": name, "status": "existing",
                     "address": f"{loc.road_name(p)}附近", "capacity_tpd": cap, "size_class": size,
                     "collection_mode": mode, "geometry": p})
    return _fac_frame(rows, FAC_BASE + ["capacity_tpd", "size_class", "collection_mode"], loc)


def _hazardous_points(ctx, loc: _Locator) -> gpd.GeoDataFrame:
    parks = ctx["parks"]
    roads = ctx["roads"]
    plan = [("320404-P01", 3), ("320404-P02", 3), ("320404-P03", 1), ("320404-P04", 1)]
    rows = []
    k = 0
    for code, n in plan:
        poly = parks.set_index("code").geometry[code]
        pname = parks.set_index("code")["name"][code]
        rng = _rng("hz" + code)
        sub = _roads_within(roads, poly)
        for m in range(n):
            p = _point_near_road(rng, sub, poly, offset=(8.0, 14.0))
            if p is None:
                continue
            k += 1
            rows.append({"fac_id": f"HW-{k:02d}", "name": f"{pname}小微危废收集点{m + 1}",
                         "status": "existing", "address": f"{loc.road_name(p)}附近",
                         "storage_t": float(rng.choice([2.0, 5.0, 8.0, 10.0])), "geometry": p})
    return _fac_frame(rows, FAC_BASE + ["park_code", "storage_t"], loc)


def _sites_at(ctx, loc, specs, prefix, extra_cols, tag):
    comm = ctx["comm"].set_index("code")
    rng = _rng(tag)
    rows = []
    for k, (code, name, extra) in enumerate(specs, start=1):
        r = comm.loc[code]
        p = _near_road_at(loc, Point(r["seed_x"] + 250, r["seed_y"] - 200), rng, r.geometry)
        rows.append({"fac_id": f"{prefix}-{k:02d}", "name": name, "status": "existing",
                     "address": f"{loc.road_name(p)}附近", **extra, "geometry": p})
    return _fac_frame(rows, FAC_BASE + extra_cols, loc)


def _candidate_sites(ctx, loc: _Locator) -> gpd.GeoDataFrame:
    roads = ctx["roads"]
    district = ctx["district"].geometry.iloc[0]
    zouqu = ctx["streets"].set_index("code").geometry[ZOUQU_CODE]
    rng = _rng("candidates")
    ends = shapely.get_coordinates(shapely.get_point(roads.geometry.to_numpy(), 0))
    order = rng.permutation(len(ends))
    chosen: list[tuple[float, float]] = []
    zq_prep = shapely.prepared.prep(zouqu)
    # make sure the deliberate gap villages hold at least one candidate each
    comm = ctx["comm"].set_index("code")
    for code in GAP_VILLAGES:
        p = _near_road_at(loc, Point(comm.loc[code, "seed_x"], comm.loc[code, "seed_y"]), rng)
        chosen.append((p.x, p.y))
    for k in order:
        x, y = ends[k]
        spacing = 1500.0 if zq_prep.contains(Point(x, y)) else 850.0
        if chosen and np.min(np.hypot(np.array(chosen)[:, 0] - x, np.array(chosen)[:, 1] - y)) < spacing:
            continue
        chosen.append((float(x), float(y)))
    rows = []
    for k, (x, y) in enumerate(chosen, start=1):
        p = _near_road_at(loc, Point(x + 20, y + 20), rng)
        t = rng.choice(["转运站", "回收网点", "收集点"], p=[0.45, 0.35, 0.2])
        if t == "转运站":
            area, cost, cap = rng.uniform(1500, 4000), rng.uniform(800, 2200), float(rng.choice([50, 80, 100, 150, 200]))
        elif t == "回收网点":
            area, cost, cap = rng.uniform(12, 60), rng.uniform(3, 12), float(rng.choice([0.5, 1.0, 1.5]))
        else:
            area, cost, cap = rng.uniform(40, 120), rng.uniform(5, 20), float(rng.choice([1.0, 2.0, 3.0]))
        rows.append({"cand_id": f"CS-{k:03d}", "name": f"候选站址{k:03d}({loc.road_name(p)})",
                     "site_type": str(t), "land_area_m2": round(float(area), 1),
                     "opening_cost": round(float(cost), 1), "capacity_tpd": cap, "geometry": p})
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=WORK_EPSG)
    gdf = gdf[gdf.within(district)]
    gdf = loc.codes(gdf).sort_values("cand_id").reset_index(drop=True)
    return gdf[["cand_id", "name", "site_type", "land_area_m2", "opening_cost", "capacity_tpd",
                "street_code", "community_code", "geometry"]]


DEPARTMENTS = {"industrial": "钟楼生态环境局", "agricultural": "区农业农村局", "household": "区城管局",
               "construction": "区住建局", "hazardous": "钟楼生态环境局"}


def _findings(ctx, loc: _Locator) -> gpd.GeoDataFrame:
    comm = ctx["comm"].set_index("code")
    parks = ctx["parks"].set_index("code")
    roads = ctx["roads"]
    streets = ctx["streets"].set_index("code")
    specs = [  # where, category, type, status, description, found_at, days, closed_at
        ("320404116216", "agricultural", "illegal_dumping", "registered", "田间堆放废弃农膜和农药包装袋约0.5吨",
         "2026-03-03T09:20:00+08:00", 15, None),
        ("320404-P02", "industrial", "illegal_dumping", "dispatched", "厂区围墙外倾倒工业边角料约3吨",
         "2026-03-05T10:45:00+08:00", 10, None),
        ("320404001004", "household", "overflowing_point", "closed", "桶站满溢，周边散落垃圾",
         "2026-03-06T07:40:00+08:00", 2, "2026-03-07T16:10:00+08:00"),
        ("320404003005", "construction", "illegal_dumping", "rectifying", "装修垃圾在河道边堆放",
         "2026-03-09T14:05:00+08:00", 7, None),
        ("320404-P01", "hazardous", "hazardous_storage", "verified", "废机油桶露天存放，无防渗措施",
         "2026-03-11T11:30:00+08:00", 5, None),
        ("320404116219", "agricultural", "legacy_waste", "dispatched", "废弃养殖棚内遗留畜禽粪污",
         "2026-03-12T15:50:00+08:00", 30, None),
        ("320404002005", "household", "exposed_garbage", "closed", "小区绿化带内暴露垃圾",
         "2026-03-14T08:15:00+08:00", 3, "2026-03-15T10:00:00+08:00"),
        ("320404-P04", "industrial", "legacy_waste", "registered", "停产灯具厂遗留废包装材料",
         "2026-03-17T09:05:00+08:00", 20, None),
        ("320404116230", "construction", "illegal_dumping", "registered", "夜间偷倒建筑渣土约20立方米",
         "2026-03-19T06:55:00+08:00", 7, None),
        ("320404005004", "household", "overflowing_point", "duplicate", "桶站满溢（与上报问题重复）",
         "2026-03-20T18:25:00+08:00", 2, None),
        ("320404-P03", "hazardous", "hazardous_storage", "rectifying", "危废暂存间标识不全、台账缺失",
         "2026-03-23T13:40:00+08:00", 10, None),
        ("320404006002", "household", "other", "rejected", "误报：已为正常收运时间",
         "2026-03-25T19:10:00+08:00", 1, None),
    ]
    rows = []
    for k, (where, cat, ftype, status, desc, found, days, closed) in enumerate(specs, start=1):
        rng = _rng("finding" + str(k))
        poly = parks.geometry[where] if where in parks.index else comm.geometry[where]
        if where in comm.index and comm.loc[where, "community_kind"] == "村":
            poly = shapely.intersection(poly, Point(comm.loc[where, "seed_x"], comm.loc[where, "seed_y"]).buffer(1200))
        p = _point_near_road(rng, _roads_within(roads, poly), poly, offset=(15.0, 40.0))
        if p is None:
            p = _near_road_at(loc, poly.representative_point(), rng, poly)
        deadline = (pd.Timestamp(found[:10]) + pd.Timedelta(days=days)).strftime("%Y-%m-%d")
        rows.append({"finding_id": f"ZL-2026-{k:06d}", "category": cat, "finding_type": ftype,
                     "status": status, "description": desc, "found_at": found,
                     "department": DEPARTMENTS[cat], "deadline": deadline, "closed_at": closed,
                     "geometry": p})
    gdf = loc.codes(gpd.GeoDataFrame(rows, geometry="geometry", crs=WORK_EPSG))
    insp = ctx["comm"].set_index("code")["inspector"]
    gdf["inspector"] = [insp.get(c) if isinstance(c, str) else None for c in gdf["community_code"]]
    gdf["responsible_unit"] = [streets["responsible_unit"].get(c) if isinstance(c, str) else None
                               for c in gdf["street_code"]]
    pk = parks["responsible_unit"]
    gdf["responsible_unit"] = [pk[p] if isinstance(p, str) else u for p, u in zip(gdf["park_code"], gdf["responsible_unit"])]
    cols = ["finding_id", "category", "finding_type", "status", "description", "inspector", "found_at",
            "department", "street_code", "community_code", "park_code", "responsible_unit", "deadline",
            "closed_at", "geometry"]
    return gdf.sort_values("finding_id").reset_index(drop=True)[cols]


def _patrol_tracks(ctx) -> gpd.GeoDataFrame:
    roads = ctx["roads"]
    comm = ctx["comm"].set_index("code")
    geoms = roads.geometry.to_numpy()
    a, b, _ = _endpoint_graph(geoms)
    graph = nx.Graph()
    for k, (u, v, g) in enumerate(zip(a, b, geoms)):
        if not graph.has_edge(u, v) or graph[u][v]["length"] > g.length:
            graph.add_edge(int(u), int(v), length=g.length, k=k)
    node_xy = {}
    for u, v, g in zip(a, b, geoms):
        c = g.coords
        node_xy[int(u)] = c[0]
        node_xy[int(v)] = c[-1]
    nodes = np.array(sorted(node_xy))
    xy = np.array([node_xy[n] for n in nodes])

    def nearest_node(x, y):
        return int(nodes[np.argmin(np.hypot(xy[:, 0] - x, xy[:, 1] - y))])

    specs = [  # track, community, start offset, end offset, inspector community, start, minutes per km
        ("PT-0001", "320404001004", (-600, -400), (500, 450), "2026-03-06T08:30:00+08:00", 15.0),
        ("PT-0002", "320404003005", (-500, 300), (600, -500), "2026-03-09T14:00:00+08:00", 15.0),
        ("PT-0003", "320404116216", (-1200, -600), (1100, 700), "2026-03-03T08:50:00+08:00", 5.0),
    ]
    rows = []
    for tid, code, (dx0, dy0), (dx1, dy1), start, min_per_km in specs:
        sx, sy = comm.loc[code, "seed_x"], comm.loc[code, "seed_y"]
        u, v = nearest_node(sx + dx0, sy + dy0), nearest_node(sx + dx1, sy + dy1)
        path = nx.shortest_path(graph, u, v, weight="length")
        coords: list[tuple[float, float]] = []
        for s, t in zip(path[:-1], path[1:]):
            seg = list(geoms[graph[s][t]["k"]].coords)
            if seg[0] != tuple(node_xy[s]):
                seg = seg[::-1]
            coords.extend(seg if not coords else seg[1:])
        line = LineString(coords)
        t0 = pd.Timestamp(start)
        t1 = t0 + pd.Timedelta(minutes=round(line.length / 1000 * min_per_km))
        rows.append({"track_id": tid, "inspector": comm.loc[code, "inspector"],
                     "started_at": t0.isoformat(), "ended_at": t1.isoformat(),
                     "community_code": code, "length_m": round(line.length, 2), "geometry": line})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WORK_EPSG)


# --------------------------------------------------------------------------- build
def build_layers() -> dict[str, gpd.GeoDataFrame]:
    """Compute every layer (no file IO except reading ``refdata/``)."""
    inp = _load_inputs()
    grids, ctx = _grids(inp)
    district = grids["grid_district"].geometry.iloc[0]
    parks = _parks(inp, district, grids["grid_street_town"].set_index("code").geometry[ZOUQU_CODE])
    roads = _road_network(inp, district, ctx["streets"], ctx["seeds"], parks)
    ctx.update(parks=parks, roads=roads)
    loc = _Locator(grids["grid_street_town"], grids["grid_community_village"], parks, roads)
    layers = dict(grids)
    layers["grid_industrial_park"] = parks
    layers["roads"] = roads
    layers["transfer_stations"] = _transfer_stations(ctx, loc)
    layers["collection_points"] = _collection_points(ctx, loc)
    layers["recycling_points"] = _recycling_points(ctx, loc)
    layers["hazardous_collection_points"] = _hazardous_points(ctx, loc)
    layers["construction_waste_sites"] = _sites_at(ctx, loc, [
        ("320404003005", "北港建筑垃圾中转站", {"site_type": "转运", "capacity_tpd": 300.0}),
        ("320404116206", "钟楼区建筑垃圾资源化利用中心", {"site_type": "资源化", "capacity_tpd": 1000.0}),
        ("320404116222", "于家建筑渣土消纳场", {"site_type": "消纳", "capacity_tpd": 500.0}),
    ], "CW", ["site_type", "capacity_tpd"], "cw")
    layers["garden_waste_stations"] = _sites_at(ctx, loc, [
        ("320404004002", "西林园林绿化垃圾回收站", {"capacity_tpd": 20.0}),
        ("320404007003", "新闸园林绿化垃圾回收站", {"capacity_tpd": 15.0}),
        ("320404116208", "邹区园林绿化垃圾回收站", {"capacity_tpd": 30.0}),
    ], "GW", ["capacity_tpd"], "gw")
    layers["candidate_sites"] = _candidate_sites(ctx, loc)
    layers["findings"] = _findings(ctx, loc)
    layers["patrol_tracks"] = _patrol_tracks(ctx)
    for name, gdf in layers.items():
        for col in gdf.columns:
            if col != "geometry" and gdf[col].dtype == object:
                gdf[col] = gdf[col].astype(object).where(gdf[col].notna(), None)
        assert gdf.crs.to_epsg() == WORK_EPSG, name
    return {name: layers[name] for name in LAYER_ORDER}


def build(out_path: str | os.PathLike = DEFAULT_OUT) -> Path:
    """Build every layer and write ``out_path`` (GeoPackage) atomically; return the path."""
    out = Path(out_path)
    layers = build_layers()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".gpkg", prefix=".zhonglou-", dir=out.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        for name, gdf in layers.items():
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = build(argv[0] if argv else DEFAULT_OUT)
    for name in pyogrio.list_layers(out)[:, 0]:
        print(f"{name}: {pyogrio.read_info(out, layer=name)['features']}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
