"""``gridtool layers``, ``gridtool validate`` and ``gridtool import``: look at and bring in files.

::

    gridtool layers FILE
    gridtool validate FILE[:LAYER] --kind KIND [--crs EPSG:4549] [--coords gcj02] [--encoding gbk]
    gridtool import SRC[:LAYER] --kind KIND --into PROJECT.gpkg [--layer NAME] [--replace | --append]
                    [--crs CRS] [--coords wgs84|gcj02|bd09] [--encoding ENC] [--x COL --y COL]

Warnings go to stderr prefixed ``warning:``; results to stdout. Bad input exits 2 with
one line on stderr (see :mod:`gridtool.cli`); ``import`` writes nothing unless it all works.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gridtool.crs import COORD_SYSTEMS
from gridtool.errors import InputError, ReadError
from gridtool.kinds import KINDS

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("layers", help="list the layers of a file: kind, features, geometry, CRS")
    p.add_argument("file", help="a GeoPackage, Shapefile, GeoJSON, KML, GPX, CSV or XLSX file")
    p.set_defaults(func=_run_layers)

    p = sub.add_parser("validate", help="check a layer against a kind without importing it")
    p.add_argument("source", metavar="FILE[:LAYER]", help="the file, optionally with :LAYER")
    _read_options(p)
    p.set_defaults(func=_run_validate)

    p = sub.add_parser("import", help="import a layer into a project GeoPackage (EPSG:4549, validated)")
    p.add_argument("source", metavar="SRC[:LAYER]", help="the file to import, optionally with :LAYER")
    _read_options(p)
    p.add_argument("--into", required=True, metavar="PROJECT.gpkg", help="the project GeoPackage (created if missing)")
    p.add_argument("--layer", metavar="NAME", help="layer name in the project (default: the kind)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--replace", action="store_true", help="replace the layer if the project already has it")
    mode.add_argument("--append", action="store_true", help="add the features to the existing layer")
    p.set_defaults(func=_run_import)


def _read_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", required=True, choices=list(KINDS), metavar="KIND",
                   help=f"layer kind, one of: {', '.join(KINDS)}")
    p.add_argument("--src-layer", metavar="LAYER", help="layer of the source file (same as FILE:LAYER)")
    p.add_argument("--crs", metavar="CRS", help="CRS of the data if the file has none or a wrong one, e.g. EPSG:4549 or EPSG:4326")
    p.add_argument("--coords", choices=COORD_SYSTEMS, default="wgs84",
                   help="lon/lat system: wgs84 (GPS, default), gcj02 (Amap/Tencent), bd09 (Baidu)")
    p.add_argument("--encoding", metavar="ENC", help="attribute text encoding (e.g. gbk) when it is not detected")
    p.add_argument("--x", metavar="COLUMN", help="x/longitude column of a CSV/XLSX table")
    p.add_argument("--y", metavar="COLUMN", help="y/latitude column of a CSV/XLSX table")


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        print(f"warning: {' '.join(w.split())}", file=sys.stderr)


def _read(args: argparse.Namespace):
    from gridtool.io import read_layer, split_layer_spec

    path, layer = split_layer_spec(args.source)
    if args.src_layer:
        if layer and layer != args.src_layer:
            raise InputError(f"source layer given twice: {args.source!r} and --src-layer {args.src_layer!r}; give one")
        layer = args.src_layer
    if (args.x is None) != (args.y is None):
        raise InputError("give both --x and --y (the coordinate columns), or neither to detect them")
    return read_layer(path, layer, kind=args.kind, encoding=args.encoding, coords=args.coords,
                      x=args.x, y=args.y, crs=args.crs)


def _features(n: int) -> str:
    return f"{n} feature{'' if n == 1 else 's'}"


def _geom_summary(gdf) -> str:
    types = sorted(set(gdf.geom_type.dropna()))
    return "/".join(types) or "no geometry"


def _run_layers(args: argparse.Namespace) -> int:
    from gridtool.io import list_layers

    infos = list_layers(args.file)
    rows = [("layer", "kind", "features", "geometry", "CRS")]
    rows += [(i.name, i.kind, str(i.n_features), i.geometry_type, i.crs) for i in infos]
    widths = [max(_width(r[c]) for r in rows) for c in range(5)]
    for j, r in enumerate(rows):
        cells = [_pad(v, widths[c], right=(c == 2 and j > 0)) for c, v in enumerate(r)]
        print("  ".join(cells).rstrip())
    if not infos:
        print(f"(no layers in {args.file})")
    return 0


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def _run_validate(args: argparse.Namespace) -> int:
    result = _read(args)
    _warn(result.warnings)
    gdf = result.gdf
    if len(gdf) == 0:
        raise ReadError(f"{args.source}: the layer is empty (0 features); nothing to validate")
    where = result.source + (f":{result.layer}" if result.layer else "")
    renamed = f"; columns renamed: {', '.join(f'{a}→{b}' for a, b in result.renamed.items())}" if result.renamed else ""
    print(f"ok: {where} is a valid {args.kind} layer: {_features(len(gdf))} ({_geom_summary(gdf)}), EPSG:4549 after import{renamed}")
    return 0


def _run_import(args: argparse.Namespace) -> int:
    from gridtool.io import _gpkg_layers, write_layer

    target = Path(args.into)
    if target.suffix.lower() != ".gpkg":
        raise InputError(f"--into {args.into!r} must be a GeoPackage file ending in .gpkg")
    if target.exists() and target.is_dir():
        raise InputError(f"--into {args.into!r} is a folder; give a .gpkg file")
    if not target.parent.exists():
        raise InputError(f"--into {args.into!r}: the folder {target.parent} does not exist; create it first")
    layer = args.layer or args.kind
    if target.exists() and layer in _gpkg_layers(target) and not (args.replace or args.append):
        raise InputError(
            f"{target} already has a layer {layer!r}; pass --replace to overwrite it, --append to add to it, "
            "or --layer NAME to import under another name"
        )
    result = _read(args)
    gdf = result.gdf
    if len(gdf) == 0:
        raise ReadError(f"{args.source}: the layer is empty (0 features); nothing to import")
    _warn(result.warnings)
    write_layer(gdf, target, layer, mode="a" if args.append else "w")
    src = result.source + (f":{result.layer}" if result.layer else "")
    verb = "appended" if args.append else "imported"
    print(f"{verb} {_features(len(gdf))} ({_geom_summary(gdf)}) from {src} into {target}:{layer} as {args.kind}, EPSG:4549")
    return 0
