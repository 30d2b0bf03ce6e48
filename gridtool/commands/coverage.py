"""``gridtool coverage``: who is served by a facility layer, by straight line or by road.

Example::

    gridtool coverage --project sample_geodata/zhonglou.gpkg --facilities collection_points \\
        --demand grid_community_village --radius-m 70 --network roads \\
        --out coverage.gpkg --report coverage.xlsx

``--project`` is a GeoPackage or a project file (``*.gridtool.json``); layer arguments
name a layer in it, or another file as ``path.gpkg:layer`` (or a plain file path).
``--demand`` may be a point layer or a grid (polygon) layer; for a grid layer demand
points are laid out with :func:`gridtool.demand.demand_from_grids`. Without
``--radius-m`` the standard radius of the facility kind is used (:mod:`gridtool.targets`).
Prints a per-street table (population, covered population, share).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from gridtool.atomic import atomic_path
from gridtool.errors import InputError, ReadError
from gridtool.feedback import Feedback

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "coverage",
        help="coverage of demand by facilities (straight line or road network), per grid",
        description=(
            "Nearest facility of every demand point, covered population and households per grid, uncovered "
            "areas, service areas and transfer-station loads. Layers are names inside --project or PATH:LAYER."
        ),
    )
    p.add_argument("--project", required=True, metavar="P", help="GeoPackage or *.gridtool.json holding the layers")
    p.add_argument("--facilities", required=True, metavar="LAYER", help="facility point layer, e.g. collection_points")
    p.add_argument("--demand", required=True, metavar="LAYER",
                   help="demand point layer, or a grid layer (e.g. grid_community_village) to spread population over")
    p.add_argument("--radius-m", type=float, default=None, metavar="R",
                   help="service radius in metres (inclusive); default: the standard of the facility kind")
    p.add_argument("--collection-mode", choices=("hand_cart", "small_vehicle"), default=None,
                   help="for transfer stations without --radius-m: which standard radius (default small_vehicle)")
    p.add_argument("--network", metavar="LAYER", default=None, help="road layer: distances along the roads")
    p.add_argument("--node-crossings", action="store_true",
                   help="road mode: join roads wherever they cross (default: only at shared vertices and T-junctions)")
    p.add_argument("--max-snap-m", type=float, default=None, metavar="M",
                   help="road mode: points farther than this from a road are unreachable (default 500)")
    p.add_argument("--spacing-m", type=float, default=100.0, metavar="M",
                   help="demand lattice spacing when --demand is a grid layer (default 100)")
    p.add_argument("--rate-kg", type=float, default=None, metavar="KG",
                   help="waste per person per day in kg (default 0.9, FACTS.md)")
    p.add_argument("--out", metavar="OUT.gpkg", default=None, help="write result layers to this GeoPackage")
    p.add_argument("--report", metavar="OUT.xlsx", default=None, help="write the indicator report (Excel)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


# ----------------------------------------------------------------------------------------
# reading
def _project_sources(project: str) -> dict[str, tuple[str, str | None]]:
    """``{layer name: (file, layer)}`` of a GeoPackage or project file."""
    p = Path(project)
    if not p.exists():
        raise ReadError(f"--project {project!r} does not exist; give a GeoPackage or a *.gridtool.json file")
    from gridtool.project import open_any  # lists a GeoPackage's layers with gridtool.io's messages

    proj = open_any(str(p), load=False)
    return {s.name: (s.source_path or "", s.source_layer) for s in proj.layers}


def _read(path: str, layer: str | None, arg: str):
    """Read a layer into EPSG:4549 with :func:`gridtool.io.read_layer`; print its warnings."""
    from gridtool import io as gio

    res = gio.read_layer(path, layer)
    for w in res.warnings:
        print(f"gridtool: warning: {arg} {w}", file=sys.stderr)
    if len(res.gdf) == 0:
        raise ReadError(f"{arg}: layer {layer!r} in {path!r} is empty")
    return res.gdf


def _layer(sources: dict, spec: str, arg: str):
    """Read ``spec`` (a layer name in the project, PATH:LAYER or PATH); return (gdf, layer name)."""
    if spec in sources:
        path, layer = sources[spec]
        return _read(path, layer, arg), spec
    path, _, layer = spec.rpartition(":")
    if path and os.path.exists(path):
        return _read(path, layer or None, arg), layer
    if os.path.exists(spec):
        return _read(spec, None, arg), Path(spec).stem
    raise InputError(
        f"{arg} {spec!r} is neither a layer of the project ({', '.join(sorted(sources)) or 'none'}) "
        "nor an existing PATH:LAYER"
    )


# ----------------------------------------------------------------------------------------
# progress
def _feedback(quiet: bool) -> Feedback:
    if quiet or not sys.stderr.isatty():
        return Feedback()
    from gridtool.cli_progress import BarFeedback

    return BarFeedback("coverage")


# ----------------------------------------------------------------------------------------
def _write_gpkg(layers: dict, path: str) -> None:
    """Write every frame as a layer of a new GeoPackage, atomically (temp file + rename)."""
    p = Path(path)
    if p.suffix.lower() != ".gpkg":
        raise InputError(f"--out {path!r} must end in .gpkg")
    if not p.parent.exists():
        raise InputError(f"--out folder {str(p.parent)!r} does not exist; create it first")
    with atomic_path(p, create=False) as tmp:
        for name, gdf in layers.items():
            out = gdf.copy()
            for c in out.columns:
                if c != out.geometry.name and (isinstance(out[c].dtype, pd.CategoricalDtype) or out[c].dtype == object):
                    out[c] = out[c].astype(object).where(out[c].notna(), None)
            out.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")


def _street_table(result, sources, streets) -> pd.DataFrame:
    """Per-street population, covered population and share."""
    bg = result.by_grid
    if len(bg) and (bg["level"] == "street_town").any():
        t = bg[bg["level"] == "street_town"]
        return pd.DataFrame({"name": t["name"].to_numpy(), "population": t["population"].to_numpy(),
                             "covered": t["covered_population"].to_numpy()})
    dem = result.demand
    w = dem["population"] if "population" in dem.columns else pd.Series(1.0, index=dem.index)
    key = dem["street_code"].fillna("?") if "street_code" in dem.columns else pd.Series("all", index=dem.index)
    t = pd.DataFrame({"key": key.astype(str), "population": w.astype(float),
                      "covered": w.astype(float) * dem["covered"].astype(float)}).groupby("key", sort=True).sum()
    names = {}
    if streets is not None and "code" in streets.columns and "name" in streets.columns:
        names = dict(zip(streets["code"].astype(str), streets["name"].astype(str)))
    return pd.DataFrame({"name": [names.get(k, k) for k in t.index], "population": t["population"].to_numpy(),
                         "covered": t["covered"].to_numpy()})


def _print_table(t: pd.DataFrame, result, facilities_name: str) -> None:
    print(f"coverage of {facilities_name} within {result.radius_m:g} m "
          f"({'road network' if result.method == 'network' else 'straight line'})")
    wname = max([4] + [len(str(n)) for n in t["name"]])
    print(f"{'name':<{wname}}  {'population':>12}  {'covered':>12}  {'share %':>8}")
    for rec in t.itertuples(index=False):
        share = 100.0 * rec.covered / rec.population if rec.population > 0 else float("nan")
        print(f"{str(rec.name):<{wname}}  {rec.population:>12,.0f}  {rec.covered:>12,.0f}  {share:>8.1f}")
    s = result.summary
    tot = s["population"]
    print(f"{'total':<{wname}}  {tot:>12,.0f}  {s['covered_population']:>12,.0f}  {s['coverage_pct']:>8.1f}")
    for reason, n in sorted(s["unreachable"].items()):
        print(f"not covered ({reason}): {n} demand points")
    if result.loads is not None:
        over = result.loads[result.loads["overloaded"]]
        for label, rec in over.iterrows():
            print(f"overloaded station {rec.get('name', label)}: {rec['assigned_tpd']:.1f} t/d "
                  f"> capacity {rec['capacity_tpd']:.1f} t/d")


def run(args: argparse.Namespace) -> int:
    import shapely

    from gridtool.coverage import DEFAULT_MAX_SNAP_M, coverage_analysis
    from gridtool.demand import DEFAULT_RATE_KG_PER_PERSON_DAY, demand_from_grids
    from gridtool.kinds import kind_of_layer_name
    from gridtool.targets import default_radius_m

    sources = _project_sources(args.project)
    facilities, fac_name = _layer(sources, args.facilities, "--facilities")
    fac_kind = kind_of_layer_name(fac_name)
    radius = args.radius_m
    if radius is None:
        radius = default_radius_m(fac_kind, collection_mode=args.collection_mode)
        print(f"gridtool: using the standard radius {radius:g} m for {fac_kind}", file=sys.stderr)
    if not np.isfinite(radius) or radius < 0:
        raise InputError(f"--radius-m must be a distance >= 0 in metres; got {args.radius_m!r}")
    demand_src, dem_name = _layer(sources, args.demand, "--demand")
    geom_types = set(shapely.get_type_id(np.asarray(demand_src.geometry.values, dtype=object)).tolist())
    rate = DEFAULT_RATE_KG_PER_PERSON_DAY if args.rate_kg is None else args.rate_kg
    grids_by_level: dict = {}
    streets = None
    if "grid_street_town" in sources:
        streets = _read(*sources["grid_street_town"], "--project")
        grids_by_level["street_town"] = streets
    if geom_types <= {3, 6}:
        demand = demand_from_grids(demand_src, spacing_m=args.spacing_m, rate_kg_per_person_day=rate)
        grids_by_level["community_village"] = demand_src
    elif geom_types <= {0}:
        demand = demand_src
        if "waste_tpd" not in demand.columns and "population" in demand.columns:
            from gridtool.demand import waste_tpd

            demand = demand.assign(waste_tpd=waste_tpd(demand["population"].fillna(0), rate))
        if "grid_community_village" in sources:
            grids_by_level["community_village"] = _read(*sources["grid_community_village"], "--project")
    else:
        raise InputError(
            f"--demand {args.demand!r} must be a point layer or a grid (polygon) layer; it has other geometries"
        )
    network = None
    if args.network:
        from gridtool.network import build_network

        roads, _ = _layer(sources, args.network, "--network")
        network = build_network(roads, split_at_crossings=args.node_crossings)
        if network.n_components > 1:
            share = 100.0 * float(np.mean(network.component != 0))
            print(f"gridtool: warning: --network {args.network!r} has {network.n_components} separate pieces "
                  f"({share:.1f}% of its nodes lie outside the largest); demand on a piece without a facility "
                  "is reported as 'different network component'. If roads cross without shared vertices, "
                  "add --node-crossings", file=sys.stderr)
    fb = _feedback(args.quiet)
    result = coverage_analysis(
        demand, facilities, radius_m=float(radius), network=network, grids_by_level=grids_by_level,
        max_snap_m=DEFAULT_MAX_SNAP_M if args.max_snap_m is None else args.max_snap_m, feedback=fb,
    )
    if hasattr(fb, "close"):
        fb.close()
    _print_table(_street_table(result, sources, streets), result, fac_name)
    if args.out:
        layers = result.layers()
        if result.loads is not None:
            import geopandas as gpd

            layers["coverage_station_loads"] = gpd.GeoDataFrame(
                result.loads.reset_index(names="facility"), geometry=facilities.geometry.to_numpy(), crs=facilities.crs)
        _write_gpkg(layers, args.out)
        print(f"wrote {args.out}")
    if args.report:
        from gridtool.coverage_report import write_coverage_report

        write_coverage_report(result, args.report, facility_kind=fac_kind, facilities_title=fac_name)
        print(f"wrote {args.report}")
    return 0
