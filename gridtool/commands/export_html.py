"""``gridtool export-html PROJECT --out MAP.html``: a self-contained offline HTML map."""
from __future__ import annotations

import argparse
import os
import sys

from gridtool.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-html",
        help="export a self-contained HTML map (opens offline)",
        description="Export layers of a project or GeoPackage to one offline HTML file with legend, "
        "search, scale bar and north arrow.",
    )
    p.add_argument("project", help="a project file (.gridtool.json) or a GeoPackage")
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--layers", help="comma-separated layer names (default: every visible layer)")
    p.add_argument("--title", default=None, help="map title (default: 钟楼区无废城市网格监管图)")
    p.add_argument("--subtitle", default="", help="subtitle line")
    p.add_argument("--author", default="", help="author or unit shown under the title")
    p.add_argument("--source", default=None, help="data source line at the bottom")
    p.add_argument("--store", help="a findings store (GeoPackage) whose findings are added as a layer")
    p.add_argument("--thumbnails", action="store_true", help="embed downscaled photo thumbnails in finding popups")
    p.add_argument("--choropleth", metavar="LAYER:FIELD", help="colour LAYER by the numeric FIELD (e.g. grid_street_town:findings_count)")
    p.add_argument("--basemap", choices=["none", "osm", "tianditu"], default="none", help="online basemap (default none: offline)")
    p.add_argument("--key", default=None, help="your Tianditu key (with --basemap tianditu); it ends up in the HTML file")
    p.add_argument("--lang", choices=["zh_CN", "en"], default="zh_CN", help="page language")
    p.set_defaults(func=_run)


def _store_findings(store: str, *, thumbnails: bool):
    """The findings layer of a store (with overdue flags) and, for thumbnails, its photo files."""
    from gridtool.findings import FindingsStore
    from gridtool.findings_pg import is_pg_url
    from gridtool.project import LayerSpec
    from gridtool.styles import default_style

    if not is_pg_url(store) and not os.path.exists(store):
        raise InputError(f"--store {store!r} does not exist; give the findings GeoPackage (gridtool findings add --store ...)")
    photos: dict[str, list[str]] = {}
    with FindingsStore.open(store) as st:
        gdf = st.query()
        if thumbnails:
            for fid in gdf["finding_id"].astype(str):
                paths = [str(ph.path) for ph in st.photos(fid) if ph.path.is_file()]
                if paths:
                    photos[fid] = paths
    spec = LayerSpec(name="findings", kind="findings", style=default_style("findings"))
    spec.gdf = gdf
    return spec, photos


def _run(args: argparse.Namespace) -> int:
    from gridtool.export.html_map import HtmlMapOptions, export_html_map, findings_per_grid
    from gridtool.kinds import GRID_KINDS
    from gridtool.project import open_any

    project = open_any(args.project)
    if args.layers:
        names = [n.strip() for n in args.layers.split(",") if n.strip()]
        layers = [project.layer(n) for n in names]
    else:
        layers = [l for l in project.layers if l.visible]
    photos: dict[str, list[str]] = {}
    if args.store:
        spec, photos = _store_findings(args.store, thumbnails=args.thumbnails)
        layers = [l for l in layers if l.kind != "findings"] + [spec]
    findings = next((l for l in layers if l.kind == "findings"), None)
    if findings is not None:  # findings per grid, for popups and choropleths
        for l in layers:
            if l.kind in GRID_KINDS and l.kind != "grid_district":
                l.gdf = findings_per_grid(l.gdf, findings.gdf)
    choropleth = None
    if args.choropleth:
        if ":" not in args.choropleth:
            raise InputError(f"--choropleth {args.choropleth!r} must be LAYER:FIELD, e.g. grid_street_town:findings_count")
        lname, fname = args.choropleth.split(":", 1)
        choropleth = (lname, fname)
    opts = HtmlMapOptions(
        subtitle=args.subtitle, author=args.author, source=args.source, basemap=args.basemap, key=args.key,
        thumbnails=args.thumbnails, lang=args.lang,
    )
    if args.title is not None:
        opts.title = args.title
    out = export_html_map(layers, args.out, opts, photos=photos, choropleth=choropleth)
    if args.basemap == "tianditu":
        print("warning: the Tianditu key is written into the HTML file; share it only with people who may use your key",
              file=sys.stderr)
    size = os.path.getsize(out)
    print(f"{out} ({size / 1e6:.2f} MB, {len(layers)} layers)")
    return 0
