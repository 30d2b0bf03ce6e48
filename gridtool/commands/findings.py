"""``gridtool findings ...``: add, list, change status, import and export patrol findings.

Every command takes ``--store STORE`` (a GeoPackage, created when missing, or the shared
database ``postgresql://USER@HOST:PORT/DB``) and optionally
``--grids FILE`` (the GeoPackage whose grid layers place findings; default: the grids the
store was created with, else the bundled Zhonglou district). Category, type and status
accept English and Chinese names. ``add`` prints the new id on stdout only after the
finding is committed; warnings (possible duplicates) go to stderr.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from gridtool.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("findings", help="patrol findings: add, list, set-status, import, export, sync")
    fsub = p.add_subparsers(dest="findings_command", metavar="ACTION", parser_class=type(p))
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--store", required=True, metavar="STORE",
                        help="the findings GeoPackage (created when missing), or the shared database "
                             "postgresql://USER@HOST:PORT/DB[?schema=NAME] (password from ~/.pgpass or PGPASSWORD)")
        sp.add_argument("--grids", metavar="FILE.gpkg", help="grid layers that place findings (default: the store's, else Zhonglou)")

    a = fsub.add_parser("add", help="add one finding; prints its id once committed")
    common(a)
    a.add_argument("--lon", type=float, required=True, help="longitude, decimal degrees")
    a.add_argument("--lat", type=float, required=True, help="latitude, decimal degrees")
    a.add_argument("--coords", default="wgs84", choices=["wgs84", "gcj02", "bd09"],
                   help="what lon/lat are: GPS wgs84 (default), Amap/Tencent gcj02, Baidu bd09")
    a.add_argument("--category", required=True, help="waste category: industrial 工业固体废物, agricultural 农业固体废物, "
                   "household 生活垃圾, construction 建筑垃圾, hazardous 危险废物")
    a.add_argument("--type", dest="finding_type", required=True, help="finding type: illegal_dumping 非法倾倒, legacy_waste 历史遗留, "
                   "exposed_garbage 暴露垃圾, overflowing_point 收集点满溢, hazardous_storage 危废贮存不规范, other 其他")
    a.add_argument("--note", default="", help="description of what was found")
    a.add_argument("--inspector", help="who found it (网格员)")
    a.add_argument("--found-at", help="when it was found, e.g. '2026-03-01 09:30' (default now, China time)")
    a.add_argument("--photo", action="append", default=[], metavar="FILE", help="a photo of the site (repeatable)")
    a.set_defaults(func=_add)

    ls = fsub.add_parser("list", help="list findings (table, CSV or GeoJSON on stdout)")
    common(ls)
    ls.add_argument("--status", help="only this status (or several, comma-separated), English or Chinese")
    ls.add_argument("--grid", metavar="CODE", help="only findings in this street/community/park grid")
    ls.add_argument("--overdue", action="store_true", help="only overdue findings")
    ls.add_argument("--format", default="table", choices=["table", "csv", "geojson"], help="output format (default table)")
    ls.add_argument("--today", help="count overdue days up to this date (YYYY-MM-DD; default today)")
    ls.set_defaults(func=_list)

    st = fsub.add_parser("set-status", help="move a finding through the workflow (派遣/处置/核查/结案 ...)")
    common(st)
    st.add_argument("id", metavar="ID", help="finding id, e.g. ZL-2026-000123")
    st.add_argument("status", metavar="STATUS", help="registered 立案, dispatched 派遣, rectifying 处置, verified 核查, "
                    "closed 结案/销号, rejected 不予立案, duplicate 重复")
    st.add_argument("--note", help="note for the history")
    st.add_argument("--evidence", action="append", default=[], metavar="FILE", help="rectification photo (repeatable)")
    st.add_argument("--reason", help="why a finding is closed without photo evidence (recorded)")
    st.add_argument("--department", help="for dispatched: the department it goes to (default by category)")
    st.add_argument("--duplicate-of", metavar="ID", help="for duplicate: the finding this one repeats")
    st.add_argument("--expect-version", type=int, metavar="N",
                    help="refuse (conflict) unless the finding is still at this version, as last seen")
    st.add_argument("--actor", help="who makes the change (default: login name)")
    st.set_defaults(func=_set_status)

    h = fsub.add_parser("history", help="show a finding's history (every event)")
    common(h)
    h.add_argument("id", metavar="ID")
    h.set_defaults(func=_history)

    d = fsub.add_parser("link-duplicate", help="mark ID as a duplicate of OF_ID")
    common(d)
    d.add_argument("id", metavar="ID")
    d.add_argument("of_id", metavar="OF_ID")
    d.add_argument("--note")
    d.set_defaults(func=_link)

    im = fsub.add_parser("import", help="import a folder of geotagged photos or a CSV/XLSX/KML list (all or nothing)")
    common(im)
    im.add_argument("path", metavar="FILE|DIR")
    im.add_argument("--coords", default="wgs84", choices=["wgs84", "gcj02", "bd09"],
                    help="what the list's lon/lat are (photo EXIF is always wgs84)")
    im.add_argument("--category", help="category for rows/photos that give none (photos: household)")
    im.add_argument("--type", dest="finding_type", help="type for rows/photos that give none (photos: other)")
    im.add_argument("--inspector", help="inspector for rows/photos that give none")
    im.set_defaults(func=_import)

    ex = fsub.add_parser("export", help="export the problem list: .xlsx (per department and grid), .csv, .geojson")
    common(ex)
    ex.add_argument("--out", required=True, metavar="FILE", help="output file; the suffix picks the format")
    ex.add_argument("--status", help="only this status (comma-separated for several)")
    ex.add_argument("--grid", metavar="CODE", help="only this grid")
    ex.add_argument("--overdue", action="store_true", help="only overdue findings")
    ex.add_argument("--today", help="count overdue days up to this date (YYYY-MM-DD)")
    ex.set_defaults(func=_export)

    sm = fsub.add_parser("summary", help="overdue summary per grid or per department")
    common(sm)
    sm.add_argument("--by", default="grid", choices=["grid", "street", "community", "park", "department"])
    sm.add_argument("--today", help="count overdue days up to this date (YYYY-MM-DD)")
    sm.set_defaults(func=_summary)

    dl = fsub.add_parser("deadlines", help="show or set deadline working days per finding type")
    common(dl)
    dl.add_argument("--set", action="append", default=[], metavar="TYPE=DAYS", help="e.g. --set illegal_dumping=2")
    dl.set_defaults(func=_deadlines)

    sy = fsub.add_parser("sync", help="merge a field GeoPackage store into the shared PostgreSQL store (repeatable)")
    sy.add_argument("--from", dest="from_store", required=True, metavar="FIELD.gpkg", help="the field store")
    sy.add_argument("--to", dest="to_store", required=True, metavar="URL",
                    help="the shared store: postgresql://USER@HOST:PORT/DB[?schema=NAME]")
    sy.add_argument("--grids", metavar="FILE.gpkg", help="grid layers (default: the stores' own)")
    sy.set_defaults(func=_sync)


def _open(args: argparse.Namespace, *, must_exist: bool = False, actor: str | None = None):
    from gridtool.findings import FindingsStore

    from gridtool.findings_pg import is_pg_url

    if is_pg_url(args.store):
        return FindingsStore.open(args.store.strip(), grids=args.grids, actor=actor)
    path = Path(args.store)
    if must_exist and not path.is_file():
        raise InputError(f"--store {args.store!r} does not exist; add a finding first or check the path")
    return FindingsStore.open(path, grids=args.grids, actor=actor)


def _shown(store: str) -> str:
    """The store as it may be printed (a URL without its password)."""
    from gridtool.findings_pg import is_pg_url, redact_url

    return redact_url(store) if is_pg_url(store) else store


def _sync(args: argparse.Namespace) -> int:
    from gridtool.feedback import Feedback
    from gridtool.findings import FindingsStore
    from gridtool.findings_pg import is_pg_url
    from gridtool.findings_sync import sync

    if is_pg_url(args.from_store):
        raise InputError(f"--from {_shown(args.from_store)!r} is a database; give the field GeoPackage (.gpkg) to merge")
    if not Path(args.from_store).is_file():
        raise InputError(f"--from {args.from_store!r} does not exist; give the field GeoPackage store to merge")
    if not is_pg_url(args.to_store):
        raise InputError(f"--to {args.to_store!r} is not a database URL; expected postgresql://USER@HOST:PORT/DB")
    with FindingsStore.open(args.from_store, grids=args.grids) as src, \
            FindingsStore.open(args.to_store.strip(), grids=args.grids) as dst:
        rep = sync(src, dst, feedback=Feedback())
    for sid, tid in rep.added:
        print(f"added {sid}" + (f" as {tid}" if tid != sid else ""))
    for sid, tid in rep.updated:
        print(f"updated {sid}" + (f" ({tid})" if tid != sid else ""))
    for c in rep.conflicts:
        print(f"conflict {c.source_id}" + (f" ({c.target_id})" if c.target_id and c.target_id != c.source_id else "")
              + f": {c.reason}")
    for pr in rep.problems:
        print(f"gridtool: warning: {pr}", file=sys.stderr)
    print(f"gridtool: sync {rep.summary()}", file=sys.stderr)
    return 0


def _today(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--today {text!r} is not a date; expected YYYY-MM-DD") from None


def _filters(args: argparse.Namespace) -> dict:
    out: dict = {}
    if getattr(args, "status", None):
        out["status"] = [s for s in args.status.split(",") if s.strip()]
    if getattr(args, "grid", None):
        out["grid_code"] = args.grid
    if getattr(args, "overdue", False):
        out["overdue"] = True
    return out


def _add(args: argparse.Namespace) -> int:
    with _open(args, actor=args.inspector) as store:
        res = store.add(lon=args.lon, lat=args.lat, coords=args.coords, category=args.category,
                        finding_type=args.finding_type, description=args.note, inspector=args.inspector,
                        found_at=args.found_at, photos=tuple(args.photo))
        f = res.finding
        print(f.finding_id, flush=True)
        print(f"gridtool: {f.finding_id} in {f.street_code}/{f.community_code}"
              + (f" (park {f.park_code})" if f.park_code else "")
              + f", responsible {f.responsible_unit}, deadline {f.deadline}", file=sys.stderr)
        if res.duplicates:
            ids = ", ".join(d.finding_id for d in res.duplicates)
            print(f"gridtool: warning: possible duplicate of {ids} (same type, open, within 50 m); if so run "
                  f"'gridtool findings link-duplicate --store {_shown(args.store)} {f.finding_id} {res.duplicates[0].finding_id}'",
                  file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    with _open(args, must_exist=True) as store:
        gdf = store.query(today=_today(args.today), **_filters(args))
        if args.format == "geojson":
            import json

            from gridtool.export.problem_list import export_geojson
            import tempfile, os

            fd, tmp = tempfile.mkstemp(suffix=".geojson")
            os.close(fd)
            try:
                export_geojson(store, tmp, today=_today(args.today), **_filters(args))
                sys.stdout.write(Path(tmp).read_text(encoding="utf-8") + "\n")
            finally:
                os.unlink(tmp)
            return 0
        cols = ["finding_id", "status", "category", "finding_type", "street_code", "community_code", "park_code",
                "department", "deadline", "overdue_days", "version", "description"]
        table = gdf[cols].copy()
        table.insert(2, "overdue", ["OVERDUE" if o else "" for o in gdf["overdue"]])
        if args.format == "csv":
            table.to_csv(sys.stdout, index=False)
        else:
            if len(table) == 0:
                print("(no findings)")
            else:
                print(table.to_string(index=False))
    return 0


def _set_status(args: argparse.Namespace) -> int:
    with _open(args, must_exist=True, actor=args.actor) as store:
        f = store.set_status(args.id, args.status, note=args.note, evidence=args.evidence or None, reason=args.reason,
                             department=args.department, duplicate_of=args.duplicate_of,
                             expected_version=args.expect_version)
        print(f"{f.finding_id} {f.status} version {f.version}" + (f" -> {f.department}" if f.department else ""))
    return 0


def _history(args: argparse.Namespace) -> int:
    with _open(args, must_exist=True) as store:
        for e in store.history(args.id):
            parts = [e.at.isoformat(timespec="seconds"), e.actor or "-", f"{e.from_status or '-'} -> {e.to_status}"]
            for label, v in (("dept", e.department), ("note", e.note), ("evidence", e.evidence_photo), ("reason", e.reason)):
                if v:
                    parts.append(f"{label}: {v}")
            print("  ".join(parts))
    return 0


def _link(args: argparse.Namespace) -> int:
    with _open(args, must_exist=True) as store:
        f = store.link_duplicate(args.id, args.of_id, note=args.note)
        print(f"{f.finding_id} duplicate of {f.duplicate_of}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from gridtool.feedback import Feedback

    with _open(args, actor=args.inspector) as store:
        res = store.import_path(args.path, coords=args.coords, category=args.category, finding_type=args.finding_type,
                                inspector=args.inspector, feedback=Feedback())
        for fid in res.added:
            print(fid)
        for fid, name in res.evidence:
            print(f"{fid} evidence {name}")
        print(f"gridtool: imported {len(res.added)} finding(s), {len(res.evidence)} evidence photo(s)"
              + (f", skipped {len(res.skipped)} photo(s) already in the store" if res.skipped else ""), file=sys.stderr)
        for new, old in res.duplicates:
            print(f"gridtool: warning: {new} may duplicate {old} (same type, open, within 50 m)", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    from gridtool.export.problem_list import export_problem_list

    with _open(args, must_exist=True) as store:
        out = export_problem_list(store, args.out, today=_today(args.today), **_filters(args))
        print(out)
    return 0


def _summary(args: argparse.Namespace) -> int:
    with _open(args, must_exist=True) as store:
        df = store.overdue_summary(by=args.by, today=_today(args.today))
        print(df.to_string(index=False) if len(df) else "(no findings)")
    return 0


def _deadlines(args: argparse.Namespace) -> int:
    with _open(args) as store:
        table = store.deadline_days
        if args.set:
            new = {}
            for item in args.set:
                key, sep, val = item.partition("=")
                if not sep:
                    raise InputError(f"--set {item!r} is not TYPE=DAYS; e.g. --set illegal_dumping=2")
                new[key] = val
            table = store.set_deadline_days(new)
        for k, v in sorted(table.items()):
            print(f"{k}\t{v}")
    return 0
