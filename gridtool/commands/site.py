"""``gridtool site``: optimal siting of transfer stations and recycling points.

::

    gridtool site --project P --model lscp|mclp|p-median|p-center|capacitated \\
        --demand LAYER --candidates LAYER [--existing LAYER] [--allow-close] [--p N] \\
        [--radius-m R] [--network LAYER] [--time-limit S] [--out OUT.gpkg]

Prints the result (sites, objective, proof and gap) and the scenario table "existing
network vs proposed"; ``--out`` writes the layers ``sites``, ``service_areas``,
``demand_assignment`` and ``scenario_existing_sites`` (if ``--existing``).
"""
from __future__ import annotations

import argparse
import math
import sys

from gridtool.errors import InputError

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("site", help="choose facility sites optimally (LSCP, MCLP, p-median, p-center, capacitated)",
                       description="Choose sites for transfer stations or recycling points with a MIP solved to "
                                   "proven optimality (HiGHS) and compare with the existing network.")
    p.add_argument("--project", required=True, metavar="P", help="GeoPackage or *.gridtool.json holding the layers")
    p.add_argument("--model", required=True, choices=("lscp", "mclp", "p-median", "p-center", "capacitated"))
    p.add_argument("--demand", required=True, metavar="LAYER", help="demand layer (points or polygons)")
    p.add_argument("--candidates", required=True, metavar="LAYER", help="candidate sites (points)")
    p.add_argument("--existing", metavar="LAYER", default=None, help="existing facilities; stay open unless --allow-close")
    p.add_argument("--allow-close", action="store_true", help="existing facilities may be closed")
    p.add_argument("--p", type=int, default=None, metavar="N", help="number of sites (mclp, p-median, p-center, capacitated)")
    p.add_argument("--radius-m", type=float, default=None, metavar="R", help="coverage radius in metres (lscp, mclp)")
    p.add_argument("--weights-col", default="population", metavar="COL", help="demand weight column (default population)")
    p.add_argument("--demand-col", default="waste_tpd", metavar="COL", help="capacitated: demand t/d column")
    p.add_argument("--capacity-col", default="capacity_tpd", metavar="COL", help="capacitated: site capacity t/d column")
    p.add_argument("--opening-cost-col", default=None, metavar="COL", help="capacitated: opening cost column")
    p.add_argument("--network", metavar="LAYER", default=None, help="road layer: distances along the roads")
    p.add_argument("--time-limit", type=float, default=None, metavar="S", help="stop after S seconds with the best sites and their gap")
    p.add_argument("--out", metavar="OUT.gpkg", default=None, help="write result layers to this GeoPackage")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> None:
    if args.model in ("lscp", "mclp") and args.radius_m is None:
        raise InputError(f"--model {args.model} needs --radius-m R (the coverage radius in metres)")
    if args.model in ("mclp", "p-median", "p-center") and args.p is None:
        raise InputError(f"--model {args.model} needs --p N (the number of sites)")
    if args.radius_m is not None and not (math.isfinite(args.radius_m) and args.radius_m > 0):
        raise InputError(f"--radius-m {args.radius_m} must be a positive number of metres")
    if args.time_limit is not None and not args.time_limit > 0:
        raise InputError(f"--time-limit {args.time_limit} must be a positive number of seconds")
    if args.p is not None and args.p < 1:
        raise InputError(f"--p {args.p} must be at least 1")


def run(args: argparse.Namespace) -> int:
    from gridtool.commands.coverage import _feedback, _layer, _project_sources, _write_gpkg
    from gridtool.scenarios import compare_scenarios
    from gridtool.siting import site

    _check_args(args)
    sources = _project_sources(args.project)
    demand, _ = _layer(sources, args.demand, "--demand")
    candidates, _ = _layer(sources, args.candidates, "--candidates")
    existing = _layer(sources, args.existing, "--existing")[0] if args.existing else None
    network = _layer(sources, args.network, "--network")[0] if args.network else None
    fb = _feedback(args.quiet)
    outcome = site(demand, candidates, model=args.model, p=args.p, radius_m=args.radius_m,
                   weights_col=args.weights_col, existing=existing, allow_close=args.allow_close, network=network,
                   demand_col=args.demand_col, capacity_col=args.capacity_col,
                   opening_cost_col=args.opening_cost_col, time_limit=args.time_limit, feedback=fb)
    res = outcome.result
    print(res.summary())
    cols = [c for c in ("source", "name", "cand_id", "fac_id", "load", "n_demand", "load_tpd", "capacity_tpd")
            if c in outcome.sites.columns]
    print(outcome.sites[cols].to_string(index=True))
    scen = {"proposed": outcome.sites}
    if existing is not None and len(existing):
        scen = {"existing": existing.to_crs(outcome.sites.crs), "proposed": outcome.sites}
    wc = args.weights_col if args.weights_col in demand.columns else None
    table = compare_scenarios(outcome.demand, scen, radius_m=args.radius_m, weights_col=wc,
                              load_col=args.demand_col, capacity_col=args.capacity_col)
    print(table.to_string(float_format=lambda v: f"{v:,.1f}"))
    if args.out:
        layers = {"sites": outcome.sites, "service_areas": outcome.service_areas,
                  "demand_assignment": outcome.demand}
        _write_gpkg(layers, args.out)
        print(f"wrote {', '.join(layers)} to {args.out}", file=sys.stderr)
    return 0
