"""``gridtool patrol import|coverage|hotspots``: patrol tracks, coverage per grid, dumping hotspots.

- ``gridtool patrol import --store STORE FILE.gpx [FILE.gpx ...] [--inspector NAME]``
- ``gridtool patrol coverage --store STORE [--days N] [--grids FILE] [--level LEVEL]
  [--roads FILE[:LAYER]] [--buffer-m 50] [--now TIME] [--out OUT.gpkg|.csv]``
- ``gridtool patrol hotspots --store STORE [--radius-m 100] [--min-count 3]
  [--window-days 365] [--all-types] [--now TIME] [--out OUT.gpkg|.csv]``

``--store`` names the GeoPackage holding the ``patrol_tracks`` and ``findings`` layers
(created by ``import`` when missing); ``--grids`` the GeoPackage whose grid layers
(``grid_street_town`` ...) are measured, by default the bundled Zhonglou district.
"""
from __future__ import annotations

import argparse
import os
import sys
import unicodedata
from typing import TYPE_CHECKING

from gridtool.errors import CRSError, InputError, ReadError
from gridtool.kinds import GRID_KINDS, WORK_EPSG

if TYPE_CHECKING:
    import geopandas as gpd

LEVELS = [k.removeprefix("grid_") for k in GRID_KINDS]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("patrol", help="patrol tracks (GPX), patrol coverage per grid, repeat-dumping hotspots")
    psub = p.add_subparsers(dest="patrol_command", metavar="ACTION", parser_class=type(p))
    p.set_defaults(func=lambda args: _missing_action(p))

    imp = psub.add_parser("import", help="import GPX patrol tracks into the store (all files or none)")
    imp.add_argument("--store", required=True, metavar="STORE.gpkg", help="store GeoPackage (created when missing)")
    imp.add_argument("files", nargs="+", metavar="FILE.gpx", help="GPX files with recorded tracks")
    imp.add_argument("--inspector", metavar="NAME", help="inspector of every track (default: the file's author)")
    imp.set_defaults(func=_run_import)

    cov = psub.add_parser("coverage", help="per grid: last patrolled, km patrolled, share of roads near a track")
    cov.add_argument("--store", required=True, metavar="STORE.gpkg", help="store GeoPackage with patrol_tracks")
    cov.add_argument("--days", type=_positive, default=30.0, metavar="N", help="window in days (default 30)")
    _grid_options(cov)
    cov.add_argument("--level", choices=LEVELS + ["all"], default="all",
                     help="grid level to measure (default: every grid layer in --grids)")
    cov.add_argument("--roads", metavar="FILE[:LAYER]",
                     help="road lines for the road share (default: the 'roads' layer of --grids)")
    cov.add_argument("--buffer-m", type=_positive, default=50.0, metavar="M",
                     help="a road is covered within this distance of a track (default 50)")
    _now_out(cov)
    cov.set_defaults(func=_run_coverage)

    hot = psub.add_parser("hotspots", help="rank repeat-dumping sites: findings clustered in space and time")
    hot.add_argument("--store", required=True, metavar="STORE.gpkg", help="store GeoPackage with a findings layer")
    hot.add_argument("--radius-m", type=_positive, default=100.0, metavar="M",
                     help="findings this close are neighbours (default 100)")
    hot.add_argument("--min-count", type=_count, default=3, metavar="N", help="findings a hotspot needs (default 3)")
    hot.add_argument("--window-days", type=float, default=365.0, metavar="DAYS",
                     help="split a site where findings are more than DAYS apart; 0 = never split (default 365)")
    hot.add_argument("--all-types", action="store_true",
                     help="use every finding type (default: illegal_dumping, legacy_waste, exposed_garbage)")
    _now_out(hot)
    hot.set_defaults(func=_run_hotspots)


# --------------------------------------------------------------------------- argument helpers
def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; expected a positive number") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return v


def _count(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; expected 2 or more") from None
    if v < 2:
        raise argparse.ArgumentTypeError(f"{text!r} must be 2 or more")
    return v


def _grid_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--grids", metavar="FILE.gpkg",
                   help="GeoPackage with the grid layers (default: the bundled Zhonglou district)")


def _now_out(p: argparse.ArgumentParser) -> None:
    p.add_argument("--now", metavar="TIME", help="reference time, ISO 8601 (default: now), e.g. 2026-03-31T18:00+08:00")
    p.add_argument("--out", metavar="OUT.gpkg|.csv", help="also write the result as a layer (.gpkg) or a table (.csv)")


def _missing_action(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


def _grids_path(arg: str | None) -> str:
    if arg:
        if not os.path.isfile(arg):
            raise ReadError(f"--grids {arg!r} does not exist or is not a file; pass a GeoPackage with grid layers")
        return arg
    from gridtool.paths import sample_gpkg_path

    return os.fspath(sample_gpkg_path())


def _layers(path: str) -> list[str]:
    import pyogrio
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # GDAL says "not recognized as a supported file format" etc.
        raise ReadError(f"{path!r} cannot be opened as a GIS file ({' '.join(str(exc).split())}); "
                        "expected a GeoPackage") from None


def _read_work(path: str, layer: str, what: str) -> gpd.GeoDataFrame:
    import pyogrio
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        raise ReadError(f"{what}: layer {layer!r} of {path!r} cannot be read ({' '.join(str(exc).split())})") from None
    if gdf.crs is None:
        raise CRSError(f"{what}: layer {layer!r} of {path!r} has no CRS; expected EPSG:{WORK_EPSG}")
    if gdf.crs.to_epsg() != WORK_EPSG:
        gdf = gdf.to_crs(WORK_EPSG)
    return gdf


def _read_grids(path: str, level: str) -> gpd.GeoDataFrame:
    import pandas as pd
    import geopandas as gpd
    names = _layers(path)
    wanted = GRID_KINDS if level == "all" else [f"grid_{level}"]
    found = [k for k in wanted if k in names]
    if not found:
        raise ReadError(
            f"--grids {path!r} has no grid layer {' / '.join(wanted)}; its layers are {', '.join(names) or 'none'}. "
            "Pass a GeoPackage whose grid layers are named like grid_community_village"
        )
    frames = []
    for k in found:
        g = _read_work(path, k, "--grids")
        g = g.assign(level=k.removeprefix("grid_"))
        frames.append(g)
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WORK_EPSG)


def _read_roads(spec: str | None, grids_path: str) -> gpd.GeoDataFrame | None:
    if spec is None:
        return _read_work(grids_path, "roads", "--grids") if "roads" in _layers(grids_path) else None
    path, layer = spec, None
    if not os.path.exists(spec) and ":" in spec:
        path, layer = spec.rsplit(":", 1)
    if not os.path.isfile(path):
        raise ReadError(f"--roads {spec!r}: file {path!r} does not exist; expected FILE or FILE:LAYER")
    names = _layers(path)
    if layer is None:
        layer = "roads" if "roads" in names else (names[0] if len(names) == 1 else None)
        if layer is None:
            raise InputError(f"--roads {spec!r} has several layers ({', '.join(names)}) and none is 'roads'; "
                             f"name one as {path}:LAYER")
    elif layer not in names:
        raise ReadError(f"--roads {spec!r}: no layer {layer!r}; the layers are {', '.join(names)}")
    return _read_work(path, layer, "--roads")


# --------------------------------------------------------------------------- output
def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, w: int, right: bool = False) -> str:
    fill = " " * max(0, w - _width(s))
    return fill + s if right else s + fill


def _print_table(headers: list[str], rows: list[list[str]], right: set[int]) -> None:
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    print("  ".join(_pad(h, widths[i], i in right) for i, h in enumerate(headers)).rstrip())
    for r in rows:
        print("  ".join(_pad(c, widths[i], i in right) for i, c in enumerate(r)).rstrip())


def _as_text_times(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    import pandas as pd
    out = gdf.copy()
    for c in out.columns:
        if c != out.geometry.name and pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].map(lambda t: None if pd.isna(t) else t.isoformat()).astype(object)
    return out


def _write_out(gdf: gpd.GeoDataFrame, out: str, layer: str, store: str) -> None:
    import pyogrio
    import pandas as pd
    if os.path.abspath(out) == os.path.abspath(store):
        raise InputError(f"--out {out!r} is the store itself; write results to another file")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise InputError(f"--out {out!r}: the folder {parent} does not exist; create it first")
    data = _as_text_times(gdf)
    low = out.lower()
    if low.endswith(".csv"):
        table = pd.DataFrame(data.drop(columns=data.geometry.name))
        table["wkt"] = data.geometry.to_wkt()
        table.to_csv(out, index=False, encoding="utf-8-sig")
    elif low.endswith(".gpkg"):
        pyogrio.write_dataframe(data, out, layer=layer, driver="GPKG")
    else:
        raise InputError(f"--out {out!r} must end in .gpkg (a map layer) or .csv (a table for Excel)")
    print(f"wrote {len(gdf)} row(s) to {out}" + (f" (layer {layer})" if low.endswith(".gpkg") else ""))


def _bar(description: str):
    from gridtool.cli_progress import BarFeedback

    return BarFeedback(f"patrol {description}")


def _date(t) -> str:
    import pandas as pd
    return "never" if t is None or pd.isna(t) else t.strftime("%Y-%m-%d")


# --------------------------------------------------------------------------- commands
def _run_import(args: argparse.Namespace) -> int:
    from gridtool.patrol import import_gpx

    with _bar("import") as fb:
        res = import_gpx(args.store, args.files, inspector=args.inspector, feedback=fb)
    print(f"imported {res.n_added} track(s), {res.km_added:.2f} km, into {args.store}"
          + (f"; skipped {res.n_skipped} already stored" if res.n_skipped else ""))
    return 0


def _run_coverage(args: argparse.Namespace) -> int:
    import pandas as pd
    from gridtool.patrol import patrol_coverage, read_tracks, resolve_now

    tracks = read_tracks(args.store)
    gpath = _grids_path(args.grids)
    grids = _read_grids(gpath, args.level)
    roads = _read_roads(args.roads, gpath)
    now = resolve_now(args.now)
    with _bar("coverage") as fb:
        cov = patrol_coverage(tracks, grids, roads, days=args.days, now=now, buffer_m=args.buffer_m, feedback=fb)
    rows = []
    for r in cov.itertuples(index=False):
        share = "" if pd.isna(r.road_share) else f"{100 * r.road_share:.1f}%"
        rows.append([str(r.name if "name" in cov.columns else ""), str(r.level), _date(r.last_patrolled),
                     f"{r.km_patrolled:.2f}", share, "" if r.patrolled else "未巡查"])
    _print_table(["grid", "level", "last patrolled", "km", "road share", "flag"], rows, {3, 4})
    n_un = int((~cov["patrolled"]).sum())
    since = (now - pd.Timedelta(days=args.days)).strftime("%Y-%m-%d %H:%M")
    print(f"{n_un} of {len(cov)} grid(s) not patrolled in the last {args.days:g} days "
          f"(since {since}); {len(tracks)} track(s) in {args.store}"
          + ("" if roads is not None else "; no roads layer, road share not computed"))
    if args.out:
        _write_out(cov, args.out, "patrol_coverage", args.store)
    return 0


def _run_hotspots(args: argparse.Namespace) -> int:
    from gridtool.hotspots import DUMPING_TYPES, hotspots
    from gridtool.patrol import _assert_gpkg

    store = args.store
    if not os.path.isfile(store):
        raise ReadError(f"--store {store!r} does not exist; log findings into it first")
    _assert_gpkg(store)
    if "findings" not in _layers(store):
        raise ReadError(f"--store {store!r} has no 'findings' layer; log findings into it first")
    findings = _read_work(store, "findings", "--store")
    window = None if args.window_days == 0 else args.window_days
    if window is not None and window < 0:
        raise InputError(f"--window-days {args.window_days:g} is negative; expected days > 0, or 0 for no split")
    with _bar("hotspots") as fb:
        hot = hotspots(findings, radius_m=args.radius_m, min_count=args.min_count, time_window_days=window,
                       types=None if args.all_types else DUMPING_TYPES, now=args.now, feedback=fb)
    rows = [[str(r.rank), r.hotspot_id, str(r.n_findings), str(r.n_months), _date(r.first_found),
             _date(r.last_found), f"{r.score:.2f}", r.community_code or r.street_code or "",
             _short(r.finding_ids)] for r in hot.itertuples(index=False)]
    _print_table(["rank", "hotspot", "findings", "months", "first", "last", "score", "grid", "finding ids"],
                 rows, {0, 2, 3, 6})
    print(f"{len(hot)} hotspot(s) among {len(findings)} finding(s): at least {args.min_count} within "
          f"{args.radius_m:g} m" + ("" if window is None else f", no gap over {window:g} days"))
    if args.out:
        _write_out(hot, args.out, "hotspots", store)
    return 0


def _short(ids: str, limit: int = 60) -> str:
    return ids if len(ids) <= limit else ids[: limit - 1] + "…"
