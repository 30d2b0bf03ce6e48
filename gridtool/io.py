"""Read real-world GIS files into EPSG:4549 GeoDataFrames, and write GeoPackage layers safely.

Formats: GeoPackage (any layer), Shapefile (GBK/GB18030 attributes detected when there
is no ``.cpg``; a missing ``.shx`` is rebuilt in a temporary copy), GeoJSON, KML/KMZ,
GPX (tracks and waypoints), FlatGeobuf and anything else GDAL reads, and CSV/XLSX
tables with coordinate columns (``经度/纬度``, ``lon/lat``, ``x/y``) or a WKT column.

Everything goes through :func:`read_layer`, which returns an :class:`ImportResult`:
the frame in EPSG:4549 (see :func:`gridtool.crs.to_work_crs`), with invalid polygons
repaired, alias columns renamed and — when a kind is given — validated by
:func:`gridtool.schema.validate`; plus the warnings about what was fixed. Bad input
raises :class:`~gridtool.errors.ReadError` / ``CRSError`` / ``SchemaError`` with one
readable message. pyogrio (GDAL) does the reading, with Arrow where it works; fiona is
not used.

:func:`write_layer` writes a GeoPackage layer atomically: the GeoPackage is copied
(SQLite backup API), the layer written into the copy, and the copy moved over the
original in one SQLite transaction (backup API) — a failure or a kill leaves the
original untouched, and the other layers of the file are kept.
"""
from __future__ import annotations

import contextlib
import csv
import io as _io
import os
import re
import shutil
import sqlite3
import tempfile
import warnings as _pywarnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gridtool.atomic import fsync_dir, fsync_file
from gridtool.crs import WORK_CRS, crs_label, parse_crs, to_work_crs
from gridtool.errors import InputError, ReadError
from gridtool.kinds import get_kind, kind_of_layer_name
from gridtool.schema import COORD_ALIASES, normalise_name, rename_aliases, validate

__all__ = [
    "LayerInfo",
    "ImportResult",
    "split_layer_spec",
    "list_layers",
    "read_layer",
    "read_gdf",
    "write_layer",
    "detect_dbf_encoding",
    "repair_polygons",
    "TABLE_SUFFIXES",
]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
_GPX_LAYERS = ("waypoints", "routes", "tracks", "route_points", "track_points")


@dataclass(frozen=True)
class LayerInfo:
    """One layer of a file, as :func:`list_layers` reports it."""

    name: str
    kind: str
    n_features: int
    geometry_type: str
    crs: str


@dataclass
class ImportResult:
    """What :func:`read_layer` returns: the frame in EPSG:4549 and what was fixed on the way."""

    gdf: gpd.GeoDataFrame
    warnings: list[str] = field(default_factory=list)
    source: str = ""
    layer: str | None = None
    renamed: dict[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------
def split_layer_spec(spec: str | os.PathLike) -> tuple[str, str | None]:
    """Split ``"path.gpkg:layer"`` into ``("path.gpkg", "layer")``.

    A spec that names an existing file is returned whole (so ``C:\\data.gpkg`` and
    file names with colons work); otherwise the part after the last colon is the
    layer if the part before it is an existing file or has a file suffix.
    """
    text = os.fspath(spec)
    if os.path.exists(text) or ":" not in text:
        return text, None
    head, _, tail = text.rpartition(":")
    if tail and ("/" not in tail and "\\" not in tail) and (os.path.exists(head) or Path(head).suffix):
        return head, tail
    return text, None


def _one_line(text: object, limit: int = 220) -> str:
    s = " ".join(str(text).split())
    parts = [p.strip() for p in s.split(";") if p.strip()]
    uniq: list[str] = []
    for p in parts:  # GDAL repeats itself: "x failed: database disk image is malformed; database ..."
        if not any(p in u for u in uniq):
            uniq.append(p)
    s = "; ".join(uniq)
    if "sqlite3_prepare" in s and "malformed" in s:
        s = "database disk image is malformed"
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _check_file(path: Path) -> None:
    if not path.exists():
        near = sorted(p.name for p in path.parent.glob(f"{path.stem[:3]}*"))[:5] if path.parent.is_dir() else []
        hint = f"; files nearby: {', '.join(near)}" if near else ""
        raise ReadError(f"{path}: file not found{hint}")
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise ReadError(f"{path}: is a folder; give a file (e.g. {path}/roads.shp or a .gpkg)")
    if path.is_file() and path.stat().st_size == 0:
        raise ReadError(f"{path}: the file is empty (0 bytes); copy it again from the source")


_FORMAT_HINTS = {
    ".gpkg": "the GeoPackage may be truncated or damaged; copy or export it again",
    ".geojson": "the GeoJSON is malformed; check it with a JSON validator or export it again",
    ".json": "the GeoJSON is malformed; check it with a JSON validator or export it again",
    ".shp": "the shapefile is damaged or incomplete (it needs .shp, .shx and .dbf side by side)",
    ".kml": "the KML is malformed; export it again",
    ".kmz": "the KMZ is damaged; export it again",
    ".gpx": "the GPX is malformed; export it again",
}


def _read_error(path: Path, exc: BaseException, layer: str | None = None) -> ReadError:
    where = f"{path}:{layer}" if layer else str(path)
    msg = _one_line(exc)
    if "not recognized as being in a supported file format" in msg or "not recognized as a supported file format" in msg:
        return ReadError(
            f"{where}: not a file format gridtool can read; expected GeoPackage, Shapefile, GeoJSON, KML, GPX, "
            "CSV or XLSX (check the file suffix and content)"
        )
    hint = _FORMAT_HINTS.get(path.suffix.lower(), "the file is damaged or not a GIS file; export it again")
    return ReadError(f"{where}: cannot read it ({msg}); {hint}")


# ----------------------------------------------------------------------------------
# shapefiles: .shx restore and DBF encoding
# ----------------------------------------------------------------------------------
def _sidecar(path: Path, ext: str) -> Path | None:
    for cand in (path.with_suffix(ext), path.with_suffix(ext.upper())):
        if cand.exists():
            return cand
    return None


def _dbf_text_values(dbf: Path, max_bytes: int = 4_000_000) -> list[tuple[bytes, bool]]:
    """The raw bytes of the character fields of (the first few MB of) a DBF.

    Each value comes with a flag telling whether it fills its field completely (and so
    may have been cut in the middle of a multi-byte character by the writer).
    """
    with open(dbf, "rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            return []
        n_records = int.from_bytes(head[4:8], "little")
        header_len = int.from_bytes(head[8:10], "little")
        record_len = int.from_bytes(head[10:12], "little")
        desc = fh.read(max(0, header_len - 32))
        fields = []  # (offset in record, length) of C fields
        offset = 1  # deletion flag
        for i in range(0, len(desc) - 31, 32):
            d = desc[i : i + 32]
            if d[0] == 0x0D:
                break
            flen = d[16]
            if chr(d[11]) == "C":
                fields.append((offset, flen))
            offset += flen
        if not fields or record_len <= 0:
            return []
        fh.seek(header_len)
        n = min(n_records, max(1, max_bytes // record_len))
        data = fh.read(n * record_len)
    values = []
    for r in range(len(data) // record_len):
        rec = data[r * record_len : (r + 1) * record_len]
        for off, ln in fields:
            raw = rec[off : off + ln]
            v = raw.rstrip(b" \x00")
            if v:
                values.append((v, len(v) == ln))
    return values


def _decodes(values: list[tuple[bytes, bool]], encoding: str) -> bool:
    """True if every value decodes; a value that fills its field may end in a cut character."""
    for v, full in values:
        try:
            v.decode(encoding)
        except UnicodeDecodeError as exc:
            if not (full and exc.start >= len(v) - 3):
                return False
            try:
                v[: exc.start].decode(encoding)
            except UnicodeDecodeError:
                return False
    return True


def _looks_chinese(values: list[tuple[bytes, bool]]) -> bool:
    """True if the non-ASCII text decodes (GB18030) to CJK and mostly uses GB2312 byte pairs.

    Common Chinese text lies in GB2312 (both bytes 0xA1–0xFE); Western 8-bit text
    misread as GBK pairs an accented letter with an ASCII one (trail byte < 0x80),
    which the ratio catches: "crème" is not taken for Chinese.
    """
    n_pairs = n_gb2312 = n_cjk = 0
    for v, _ in values[:5000]:
        text = v.decode("gb18030", errors="ignore")
        for ch in text:
            if ord(ch) < 128:
                continue
            b = ch.encode("gb18030")
            n_pairs += 1
            if len(b) == 2 and 0xA1 <= b[0] <= 0xFE and 0xA1 <= b[1] <= 0xFE:
                n_gb2312 += 1
            if "\u4e00" <= ch <= "\u9fff":
                n_cjk += 1
    return n_cjk > 0 and n_gb2312 >= 0.8 * n_pairs


def detect_dbf_encoding(shp: str | os.PathLike) -> tuple[str | None, list[str]]:
    """Decide the attribute encoding of a shapefile that has no ``.cpg``.

    Returns
    -------
    tuple[str | None, list[str]]
        The encoding to pass to GDAL (None: nothing to decide — a ``.cpg`` exists or
        all text is ASCII) and warnings.

    Raises
    ------
    ReadError
        If the text is neither UTF-8 nor GBK/GB18030: rather than returning mojibake.
    """
    path = Path(shp)
    if _sidecar(path, ".cpg") is not None:
        return None, []
    dbf = _sidecar(path, ".dbf")
    if dbf is None:
        return None, []
    values = _dbf_text_values(dbf)
    non_ascii = [(v, full) for v, full in values if any(b >= 0x80 for b in v)]
    if not non_ascii:
        return None, []
    if _decodes(non_ascii, "utf-8"):
        return "UTF-8", []
    if _decodes(non_ascii, "gb18030") and _looks_chinese(non_ascii):
        return "GB18030", [
            f"{path.name}: no .cpg file; the attributes decode as Chinese GBK/GB18030 text, read them so "
            f"(add a {path.stem}.cpg containing GBK, or pass --encoding, to say so)"
        ]
    raise ReadError(
        f"{path}: no .cpg file and the attribute text is neither UTF-8 nor GBK; say the encoding with "
        "--encoding (e.g. --encoding big5 or --encoding cp1252), or add a .cpg file naming it"
    )


@contextlib.contextmanager
def _opened_shapefile(path: Path) -> Iterator[tuple[Path, list[str]]]:
    """Yield a readable shapefile path: the file itself, or a temporary copy with a rebuilt .shx."""
    warns: list[str] = []
    if _sidecar(path, ".dbf") is None:
        warns.append(f"{path.name}: no {path.stem}.dbf next to it, so the features have no attributes")
    if _sidecar(path, ".prj") is None:
        pass  # handled by the CRS step, which says how to fix it
    if _sidecar(path, ".shx") is not None:
        yield path, warns
        return
    with tempfile.TemporaryDirectory(prefix="gridtool-shx-") as tmp:
        for side in path.parent.glob(path.stem + ".*"):
            if side.suffix.lower() in (".shp", ".dbf", ".prj", ".cpg", ".qpj"):
                shutil.copy2(side, Path(tmp) / (path.stem + side.suffix.lower()))
        copy = Path(tmp) / (path.stem + ".shp")
        old = pyogrio.get_gdal_config_option("SHAPE_RESTORE_SHX")
        pyogrio.set_gdal_config_options({"SHAPE_RESTORE_SHX": "YES"})
        try:
            try:
                pyogrio.read_info(copy)
            except Exception as exc:
                raise ReadError(
                    f"{path}: the index file {path.stem}.shx is missing and could not be rebuilt ({_one_line(exc)}); "
                    "copy all the shapefile's files (.shp .shx .dbf .prj .cpg) together"
                ) from None
        finally:
            pyogrio.set_gdal_config_options({"SHAPE_RESTORE_SHX": old})
        warns.append(f"{path.name}: {path.stem}.shx was missing; rebuilt it from {path.name} in a temporary copy")
        yield copy, warns


# ----------------------------------------------------------------------------------
# listing
# ----------------------------------------------------------------------------------
def _geom_label(gtype: object) -> str:
    if gtype is None or (isinstance(gtype, float) and np.isnan(gtype)):
        return "None"
    return str(gtype)


def list_layers(path: str | os.PathLike) -> list[LayerInfo]:
    """List the layers of a file: name, kind guessed from the name, features, geometry type, CRS.

    Raises
    ------
    ReadError
        If the file is missing or cannot be read.
    """
    p = Path(path)
    _check_file(p)
    suffix = p.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return _list_table(p)
    if suffix == ".shp":
        with _opened_shapefile(p) as (real, _):
            return [_layer_info(real, None, display=p.stem)]
    try:
        layers = pyogrio.list_layers(p)
    except Exception as exc:
        raise _read_error(p, exc) from None
    out = []
    for name, gtype in layers:
        out.append(_layer_info(p, str(name), gtype=gtype))
    return out


def _layer_info(path: Path, layer: str | None, *, gtype: object = "?", display: str | None = None) -> LayerInfo:
    try:
        info = pyogrio.read_info(path, layer=layer, force_feature_count=True)
    except Exception as exc:
        raise _read_error(path, exc, layer) from None
    name = display or layer or str(info.get("layer_name") or path.stem)
    if gtype == "?":
        gtype = info.get("geometry_type")
    crs = info.get("crs")
    geom = _geom_label(gtype)
    return LayerInfo(
        name=name,
        kind=kind_of_layer_name(name),
        n_features=int(info.get("features") or 0),
        geometry_type=geom,
        crs=crs_label(crs) if crs else ("none" if geom != "None" else "-"),
    )


def _list_table(path: Path) -> list[LayerInfo]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        sheets = _excel_sheets(path)
        out = []
        for sheet in sheets:
            df, _ = _read_table_frame(path, sheet, None)
            cols = _find_coord_columns(df, None, None, path)
            out.append(LayerInfo(sheet, kind_of_layer_name(sheet), len(df), "Point" if cols else "None", "none"))
        return out
    df, _ = _read_table_frame(path, None, None)
    cols = _find_coord_columns(df, None, None, path)
    return [LayerInfo(path.stem, kind_of_layer_name(path.stem), len(df), "Point" if cols else "None", "none")]


# ----------------------------------------------------------------------------------
# tables (CSV / XLSX)
# ----------------------------------------------------------------------------------
def _excel_sheets(path: Path) -> list[str]:
    try:
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            return list(wb.sheetnames)
        finally:
            wb.close()
    except Exception as exc:
        raise ReadError(f"{path}: cannot open the workbook ({_one_line(exc)}); save it again as .xlsx") from None


def _decode_text(path: Path, encoding: str | None) -> tuple[str, list[str]]:
    raw = path.read_bytes()
    if encoding:
        try:
            return raw.decode(encoding), []
        except (UnicodeDecodeError, LookupError) as exc:
            raise ReadError(f"{path}: cannot decode it as --encoding {encoding} ({_one_line(exc)}); try utf-8 or gb18030") from None
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        raise ReadError(f"{path}: the text is neither UTF-8 nor GBK; say its encoding with --encoding") from None
    if not _looks_chinese([(raw[:200_000], False)]):
        raise ReadError(f"{path}: the text is not UTF-8 and does not look like GBK Chinese; say its encoding with --encoding")
    return text, [f"{path.name}: not UTF-8; decoded it as Chinese GBK/GB18030 (pass --encoding to say otherwise)"]


def _read_table_frame(path: Path, sheet: str | None, encoding: str | None) -> tuple[pd.DataFrame, list[str]]:
    warns: list[str] = []
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            df = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=object, engine="openpyxl")
        except ValueError as exc:
            if sheet is not None and "not found" in str(exc).lower():
                raise ReadError(
                    f"{path}: no sheet {sheet!r}; it has: {', '.join(_excel_sheets(path))}"
                ) from None
            raise ReadError(f"{path}: cannot read the workbook ({_one_line(exc)}); save it again as .xlsx") from None
        except Exception as exc:
            raise ReadError(f"{path}: cannot read the workbook ({_one_line(exc)}); save it again as .xlsx") from None
    else:
        text, warns = _decode_text(path, encoding)
        sample = text[:8192]
        try:
            delim = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delim = "\t" if path.suffix.lower() == ".tsv" else ","
        try:
            df = pd.read_csv(_io.StringIO(text), sep=delim, dtype=str, keep_default_na=False, skipinitialspace=True)
        except Exception as exc:
            raise ReadError(f"{path}: not a readable CSV table ({_one_line(exc)}); check the delimiter and quotes") from None
    df.columns = [str(c).strip() for c in df.columns]
    blank_rows = df.apply(lambda r: all((v is None) or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()) for v in r), axis=1) if len(df) else pd.Series([], dtype=bool)
    if len(df) and blank_rows.any():
        df = df[~blank_rows.to_numpy()].reset_index(drop=True)
    return df, warns


def _find_coord_columns(df: pd.DataFrame, x: str | None, y: str | None, path: Path) -> tuple[str, str, str] | None:
    """Return ``(x_col, y_col, kind)`` with kind ``"lonlat"``, ``"xy"`` or ``"wkt"`` (x_col only); None if absent."""
    cols = list(df.columns)
    if x or y:
        missing = [c for c in (x, y) if c is None or c not in cols]
        if missing:
            raise ReadError(
                f"{path}: coordinate column {missing[0]!r} not found (--x/--y); the table has: {', '.join(cols)}"
            )
        return x, y, "xy"  # type: ignore[return-value]
    norm = {normalise_name(c): c for c in cols}

    def find(key: str) -> str | None:
        for a in COORD_ALIASES[key]:
            if normalise_name(a) in norm:
                return norm[normalise_name(a)]
        for n, c in norm.items():  # "经度(°)", "lon_gcj02"
            for a in COORD_ALIASES[key]:
                na = normalise_name(a)
                if len(na) > 1 and (n.startswith(na + "(") or n.startswith(na + "_")):
                    return c
        return None

    lon, lat = find("lon"), find("lat")
    if lon and lat:
        return lon, lat, "lonlat"
    cx, cy = find("x"), find("y")
    if cx and cy:
        return cx, cy, "xy"
    for wkt in ("wkt", "geometry", "geom", "the_geom", "shape"):
        if wkt in norm:
            return norm[wkt], "", "wkt"
    return None


def _parse_numbers(df: pd.DataFrame, col: str, path: Path, line_offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Column as floats, and a mask of blank cells; ReadError naming row/column for text."""
    s = df[col]
    text = s.astype(object).map(lambda v: v.strip().replace("，", ".") if isinstance(v, str) else v)
    blank = text.map(lambda v: v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and v == ""))
    nums = pd.to_numeric(text.where(~blank, None), errors="coerce").astype("float64")
    bad = nums.isna() & ~blank
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        n_bad = int(bad.sum())
        more = f" ({n_bad} such values in total)" if n_bad > 1 else ""
        raise ReadError(
            f"{path}: row {i + 1} (line {i + line_offset}) column '{col}' holds {s.iloc[i]!r}, not a number{more}; "
            "fix or delete those rows, or name the right columns with --x/--y"
        )
    return nums.to_numpy(), blank.to_numpy(dtype=bool)


def _read_table(path: Path, sheet: str | None, encoding: str | None, x: str | None, y: str | None):
    df, warns = _read_table_frame(path, sheet, encoding)
    where = f"{path}:{sheet}" if sheet else str(path)
    if len(df.columns) == 0:
        raise ReadError(f"{where}: the table has no columns; expected a header row with e.g. 名称,经度,纬度")
    found = _find_coord_columns(df, x, y, path)
    if found is None:
        raise ReadError(
            f"{where}: no coordinate columns found among {', '.join(map(str, df.columns))}; expected 经度/纬度, "
            "lon/lat, x/y or WKT, or name them with --x COLUMN --y COLUMN"
        )
    cx, cy, how = found
    if how == "wkt":
        text = df[cx].astype(object)
        blank = text.map(lambda v: not isinstance(v, str) or not v.strip()).to_numpy(dtype=bool)
        geoms = np.empty(len(df), dtype=object)
        for i, v in enumerate(text):
            if blank[i]:
                continue
            try:
                geoms[i] = shapely.from_wkt(v.strip())
            except Exception:
                raise ReadError(f"{where}: row {i + 1} column '{cx}' holds {v[:60]!r}, not WKT geometry; fix or delete the row") from None
        attrs = df.drop(columns=[cx])
    else:
        xs, bx = _parse_numbers(df, cx, path, 2 if sheet is None else 2)
        ys, by = _parse_numbers(df, cy, path, 2)
        blank = bx | by
        geoms = shapely.points(xs, ys)
        attrs = df.drop(columns=[cx, cy])
    if blank.any():
        rows = np.flatnonzero(blank) + 1
        shown = ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
        warns.append(f"{Path(where).name}: skipped {len(rows)} row{'s' if len(rows) > 1 else ''} without coordinates (row {shown})")
    attrs = _infer_numbers(attrs)
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=attrs.index), crs=None)
    gdf = gdf[~blank].reset_index(drop=True)
    return gdf, warns


def _infer_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """Turn all-number text columns into numbers (codes with leading zeros stay text)."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if s.dtype != object and not pd.api.types.is_string_dtype(s):
            continue
        vals = s.astype(object)
        nonblank = vals[vals.map(lambda v: isinstance(v, str) and v.strip() != "")]
        if nonblank.empty or nonblank.map(lambda v: bool(re.match(r"^0\d", v.strip()))).any():
            continue
        nums = pd.to_numeric(nonblank.map(str.strip), errors="coerce")
        if nums.notna().all():
            out[c] = pd.to_numeric(vals.map(lambda v: v.strip() if isinstance(v, str) and v.strip() else None), errors="coerce")
    return out


# ----------------------------------------------------------------------------------
# vector files via pyogrio
# ----------------------------------------------------------------------------------
def _read_vector(path: Path, layer: str | None, encoding: str | None) -> gpd.GeoDataFrame:
    kwargs: dict[str, Any] = {"layer": layer}
    if encoding:
        kwargs["encoding"] = encoding
    with _pywarnings.catch_warnings():
        _pywarnings.simplefilter("ignore")
        try:
            return pyogrio.read_dataframe(path, use_arrow=True, **kwargs)
        except pyogrio.errors.DataLayerError as exc:
            if layer is not None:
                try:
                    names = [str(n) for n, _ in pyogrio.list_layers(path)]
                except Exception:
                    names = None
                if names is not None and layer not in names:
                    raise ReadError(f"{path}: no layer {layer!r}; it has: {', '.join(names) or '(none)'}") from None
            raise _read_error(path, exc, layer) from None
        except pyogrio.errors.DataSourceError as exc:
            raise _read_error(path, exc, layer) from None
        except Exception:
            pass  # Arrow could not take it (odd types, bad text): the plain reader may
        try:
            return pyogrio.read_dataframe(path, use_arrow=False, **kwargs)
        except Exception as exc:
            raise _read_error(path, exc, layer) from None


def _pick_layer(path: Path, layer: str | None, kind: str | None) -> tuple[str | None, list[str]]:
    """Choose the layer to read from a multi-layer file; ReadError when ambiguous or missing."""
    if layer is not None:
        return layer, []  # checked when read (listing costs an extra open of the file)
    try:
        layers = [(str(n), g) for n, g in pyogrio.list_layers(path)]
    except Exception as exc:
        raise _read_error(path, exc) from None
    names = [n for n, _ in layers]
    if not names:
        raise ReadError(f"{path}: the file holds no layers; export the data again")
    if len(names) == 1:
        return names[0], []
    if path.suffix.lower() == ".gpx":
        return _pick_gpx_layer(path, names, kind)
    if kind and kind in names:
        return kind, []
    spatial = [n for n, g in layers if g is not None]
    if len(spatial) == 1 and path.suffix.lower() not in (".kml", ".kmz"):
        return spatial[0], []
    if path.suffix.lower() in (".kml", ".kmz"):
        return None, []  # all folders, merged by the caller
    raise ReadError(
        f"{path} has {len(names)} layers ({', '.join(names)}); say which one as {path}:LAYER"
    )


def _count(path: Path, layer: str) -> int:
    try:
        return int(pyogrio.read_info(path, layer=layer, force_feature_count=True).get("features") or 0)
    except Exception:
        return 0


def _pick_gpx_layer(path: Path, names: list[str], kind: str | None) -> tuple[str, list[str]]:
    counts = {n: _count(path, n) for n in names if n in _GPX_LAYERS}
    geom = get_kind(kind).geometry if kind else None
    order = {
        "Point": ["waypoints", "track_points", "route_points"],
        "LineString": ["tracks", "routes"],
    }.get(geom or "", ["tracks", "routes", "waypoints"])
    for n in order:
        if counts.get(n):
            others = [f"{o} ({counts[o]})" for o in ("tracks", "routes", "waypoints") if o != n and counts.get(o)]
            warns = [f"{path.name}: read the GPX {n}; it also has {', '.join(others)}: pick one as {path.name}:LAYER"] if others else []
            return n, warns
    return order[0], []


def _read_kml_all(path: Path, encoding: str | None) -> tuple[gpd.GeoDataFrame, list[str]]:
    names = [str(n) for n, _ in pyogrio.list_layers(path)]
    frames = []
    for n in names:
        df = _read_vector(path, n, encoding)
        if len(df):
            df = df.assign(folder=n)
            frames.append(df)
    if not frames:
        return _read_vector(path, names[0], encoding), []
    crs = frames[0].crs
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)
    warns = [f"{path.name}: merged {len(frames)} KML folders ({', '.join(f for f in out['folder'].unique())}); the 'folder' column says which"] if len(frames) > 1 else []
    return out, warns


# ----------------------------------------------------------------------------------
# geometry repair
# ----------------------------------------------------------------------------------
def _row_list(idx: np.ndarray, limit: int = 5) -> str:
    rows = [str(int(i) + 1) for i in idx[:limit]]
    more = f" and {len(idx) - limit} more" if len(idx) > limit else ""
    return f"row{'s' if len(idx) > 1 else ''} {', '.join(rows)}{more}"


def repair_polygons(gdf: gpd.GeoDataFrame, name: str = "data", *, copy: bool = True) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Repair invalid polygons with ``make_valid``, keeping only their polygonal parts.

    Returns a new frame (``copy=False``: the input itself when nothing needed repair)
    and warnings counting what was repaired (and what collapsed to nothing and was dropped).
    """
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    types = shapely.get_type_id(geoms)
    polygonal = np.isin(types, (3, 6))
    invalid = np.zeros(len(geoms), dtype=bool)
    if polygonal.any():
        invalid[polygonal] = ~shapely.is_valid(geoms[polygonal])
    if not invalid.any():
        return (gdf.copy() if copy else gdf), []
    idx = np.flatnonzero(invalid)
    fixed = shapely.make_valid(geoms[idx])
    out_geoms = geoms.copy()
    dropped = []
    for j, (i, g) in enumerate(zip(idx, fixed)):
        if shapely.get_type_id(g) == 7:  # GeometryCollection: keep the polygons
            parts = [p for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6)]
            g = shapely.union_all(parts) if parts else shapely.Polygon()
        if g.is_empty or shapely.get_type_id(g) not in (3, 6):
            dropped.append(i)
        out_geoms[i] = g
    out = gdf.copy()
    out = out.set_geometry(gpd.GeoSeries(out_geoms, index=gdf.index, crs=gdf.crs), crs=gdf.crs)
    warns = [
        f"{name}: repaired {len(idx)} invalid polygon{'s' if len(idx) > 1 else ''} (self-intersections etc.) "
        f"with make_valid ({_row_list(idx)})"
    ]
    if dropped:
        d = np.asarray(dropped)
        warns.append(f"{name}: dropped {len(d)} polygon{'s' if len(d) > 1 else ''} with no area left after repair ({_row_list(d)})")
        keep = np.ones(len(out), dtype=bool)
        keep[d] = False
        out = out[keep]
    return out, warns


# ----------------------------------------------------------------------------------
# the public reader
# ----------------------------------------------------------------------------------
def read_layer(
    path: str | os.PathLike,
    layer: str | None = None,
    *,
    kind: str | None = None,
    encoding: str | None = None,
    coords: str = "wgs84",
    x: str | None = None,
    y: str | None = None,
    crs: Any = None,
) -> ImportResult:
    """Read one layer of any supported file into EPSG:4549.

    Parameters
    ----------
    path
        The file; ``"file.gpkg:layer"`` is accepted too (see :func:`split_layer_spec`).
    layer
        The layer (GeoPackage layer, GPX ``tracks``/``waypoints``, XLSX sheet). Needed
        when a file has several layers and none is named after ``kind``.
    kind
        A kind from :mod:`gridtool.kinds`: columns are renamed from aliases and the
        frame is validated (:func:`gridtool.schema.validate`).
    encoding
        Attribute text encoding (shapefile DBF, CSV); detected when not given.
    coords
        ``"wgs84"``, ``"gcj02"`` (Amap/Tencent) or ``"bd09"`` (Baidu) lon/lat.
    x, y
        Coordinate column names of a CSV/XLSX table; detected when not given.
    crs
        The CRS of the data, for files without one (``"EPSG:4549"``); when the file
        says otherwise this overrides it, with a warning.

    Returns
    -------
    ImportResult
        ``.gdf`` in EPSG:4549 and ``.warnings``. An empty layer is returned with a warning.

    Raises
    ------
    ReadError, CRSError, SchemaError
        With one readable message saying what, where and how to fix.
    """
    spec_path, spec_layer = split_layer_spec(path)
    if layer is None:
        layer = spec_layer
    p = Path(spec_path)
    _check_file(p)
    warnings: list[str] = []
    suffix = p.suffix.lower()
    chosen = layer
    user_crs = parse_crs(crs, "--crs") if crs is not None else None

    if suffix in TABLE_SUFFIXES:
        sheet = layer if suffix in (".xlsx", ".xlsm") else None
        gdf, w = _read_table(p, sheet, encoding, x, y)
        warnings += w
        chosen = sheet
    elif suffix == ".shp" or suffix == ".dbf":
        shp = p.with_suffix(".shp") if suffix == ".dbf" else p
        if not shp.exists():
            raise ReadError(f"{p}: the shapefile {shp.name} is missing next to it")
        with _opened_shapefile(shp) as (real, w):
            warnings += w
            enc = encoding
            if enc is None:
                enc, w = detect_dbf_encoding(real)
                warnings += w
            gdf = _read_vector(real, None, enc)
        chosen = None
    else:
        if x or y:
            raise InputError(f"--x/--y name coordinate columns of CSV/XLSX tables; {p.name} is a {suffix or 'GIS'} file")
        chosen, w = _pick_layer(p, layer, kind)
        warnings += w
        if chosen is None:
            gdf, w = _read_kml_all(p, encoding)
            warnings += w
        else:
            gdf = _read_vector(p, chosen, encoding)

    name = f"{p.name}:{chosen}" if chosen and chosen != p.stem else p.name
    if not isinstance(gdf, gpd.GeoDataFrame) or getattr(gdf, "_geometry_column_name", None) not in gdf.columns:
        raise ReadError(f"{name}: has no geometry (an attribute table); import a layer with points, lines or polygons")

    if len(gdf) == 0:
        warnings.append(f"{name}: the layer is empty (0 features)")
    else:
        nogeom = (gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
        if nogeom.all():
            raise ReadError(f"{name}: none of the {len(gdf)} features has a geometry; nothing to place on the map")
        if nogeom.any():
            warnings.append(f"{name}: skipped {int(nogeom.sum())} feature{'s' if nogeom.sum() > 1 else ''} without geometry ({_row_list(np.flatnonzero(nogeom))})")
            gdf = gdf[~nogeom].reset_index(drop=True)

    if user_crs is not None and gdf.crs is not None and not gdf.crs.equals(user_crs):
        warnings.append(f"{name}: the file says {crs_label(gdf.crs)}; used --crs {crs_label(user_crs)} instead as asked")
        gdf = gdf.set_crs(user_crs, allow_override=True)
    gdf, w = to_work_crs(gdf, assume=user_crs, coords=coords, name=name, copy=False)
    warnings += w
    gdf, w = repair_polygons(gdf, name, copy=False)
    warnings += w
    gdf = gdf.reset_index(drop=True)
    renamed: dict[str, str] = {}
    if kind is not None:
        k = get_kind(kind)
        gdf, renamed = rename_aliases(gdf, k)
        gdf = validate(gdf, k, name=name)
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    return ImportResult(gdf=gdf, warnings=warnings, source=str(p), layer=chosen, renamed=renamed)


def read_gdf(path: str | os.PathLike, layer: str | None = None, **kwargs: Any) -> gpd.GeoDataFrame:
    """Like :func:`read_layer` but return only the GeoDataFrame (warnings are dropped)."""
    return read_layer(path, layer, **kwargs).gdf


# ----------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------
def _gpkg_layers(path: Path) -> list[str]:
    try:
        return [str(n) for n, _ in pyogrio.list_layers(path)]
    except Exception as exc:
        raise _read_error(path, exc) from None


def write_layer(gdf: gpd.GeoDataFrame, path: str | os.PathLike, layer: str, *, mode: str = "w") -> Path:
    """Write ``gdf`` as layer ``layer`` of a GeoPackage, atomically.

    The existing file is copied with SQLite's backup API (a consistent snapshot, also
    of a file in WAL mode), the layer is written into the copy and checked, and the
    copy is written back over the original with the backup API again — one SQLite
    transaction, so other connections (the findings store, the GUI) never see a
    half-written file and a kill leaves the original intact. A new file is written
    to a temporary name and renamed. Other layers are kept. Changes another program
    makes to the file while the layer is being written are lost (the window is the
    duration of the write).

    Parameters
    ----------
    gdf
        The frame to write; must have a CRS.
    path
        A ``.gpkg`` file, created if missing. Other suffixes (``.geojson``, ``.shp`` ...)
        are written as a whole new file the same atomic way.
    layer
        Layer name.
    mode
        ``"w"``: create or replace that layer; ``"a"``: append features to it (created if missing).

    Returns
    -------
    Path
        The written file.
    """
    if mode not in ("w", "a"):
        raise InputError(f"mode {mode!r} is unknown; expected 'w' (replace the layer) or 'a' (append)")
    if not layer or not str(layer).strip():
        raise InputError("layer name is empty; give a name such as 'transfer_stations'")
    if str(layer).lower().startswith("gpkg") or str(layer).lower().startswith("sqlite_") or any(ord(c) < 32 for c in str(layer)):
        raise InputError(
            f"layer name {layer!r} is not allowed in a GeoPackage (names starting with 'gpkg' or 'sqlite_' are "
            "reserved); choose another, e.g. with --layer"
        )
    if gdf.crs is None:
        from gridtool.errors import CRSError

        raise CRSError(f"cannot write layer {layer!r}: the frame has no CRS; set it first (set_crs({WORK_CRS.to_epsg()}))")
    target = Path(path)
    if not target.parent.is_dir():
        raise ReadError(f"{target}: the folder {target.parent} does not exist; create it first")
    is_gpkg = target.suffix.lower() == ".gpkg"
    if target.suffix.lower() in (".shp", ".dbf", ".shx"):
        raise InputError(f"{target}: writing shapefiles is not supported (several files, 10-character names); write a .gpkg")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        append = False
        if is_gpkg and target.exists():
            _backup_sqlite(target, tmp)
            append = mode == "a" and layer in _gpkg_layers(tmp)
        else:
            tmp.unlink()
            if mode == "a" and target.exists():
                shutil.copy2(target, tmp)
                append = True
        with _pywarnings.catch_warnings():
            _pywarnings.simplefilter("ignore")
            try:
                pyogrio.write_dataframe(
                    gdf, tmp, layer=layer if is_gpkg else None, driver="GPKG" if is_gpkg else None, append=append
                )
            except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
                    pyogrio.errors.GeometryError) as exc:
                raise InputError(
                    f"{target}:{layer}: cannot write the layer ({_one_line(exc)}); the file was not changed"
                ) from None
        if is_gpkg:
            n = int(pyogrio.read_info(tmp, layer=layer, force_feature_count=True).get("features") or 0)
            expected = len(gdf) + (_count(target, layer) if append else 0)
            if n != expected:
                raise ReadError(f"{target}:{layer}: wrote {n} features, expected {expected}; the file was not changed")
            fsync_file(tmp)
        if is_gpkg and target.exists():
            # copy the result back through SQLite itself: one transaction on the target,
            # safe for connections that have it open (also in WAL mode), unlike a rename
            _restore_sqlite(tmp, target)
            tmp.unlink()
        else:
            if target.exists():
                shutil.copymode(target, tmp)
            os.replace(tmp, target)
            fsync_dir(target.parent)
    except BaseException:
        for leftover in (tmp, Path(str(tmp) + "-journal"), Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
            with contextlib.suppress(OSError):
                leftover.unlink()
        if not is_gpkg:
            for side in tmp.parent.glob(tmp.stem + ".*"):
                with contextlib.suppress(OSError):
                    side.unlink()
        raise
    return target


def _backup_sqlite(src: Path, dst: Path) -> None:
    try:
        with open(src, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise ReadError(f"{src}: not a GeoPackage (not an SQLite file); choose another file name or remove it")
        con = sqlite3.connect(src.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            out = sqlite3.connect(dst)
            try:
                con.backup(out)
                # the copy must not inherit WAL mode: a stale -wal file of the original,
                # still open elsewhere, would otherwise be replayed onto the new file
                out.execute("PRAGMA journal_mode=DELETE")
            finally:
                out.close()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise ReadError(f"{src}: the GeoPackage is damaged ({exc}); nothing was written to it") from None


def _restore_sqlite(src: Path, dst: Path) -> None:
    """Copy ``src`` over ``dst`` with SQLite's backup API: atomic, under SQLite's own locks."""
    con = sqlite3.connect(src)
    try:
        out = sqlite3.connect(dst, timeout=30)
        try:
            con.backup(out)
        finally:
            out.close()
    except sqlite3.OperationalError as exc:
        raise InputError(
            f"{dst}: could not update the GeoPackage ({exc}); is another program writing to it? "
            "Nothing was changed; try again when it is done"
        ) from None
    finally:
        con.close()
