"""The ``layers``, ``validate`` and ``import`` commands on the broken-file corpus."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pyogrio
import pytest
import shapely

from gridtool.cli import main
from tests.core import corpus

# corpus case, kind, expected exit, phrase that must be in the one stderr line
CASES = [
    ("truncated_gpkg", "transfer_stations", 2, "malformed"),
    ("not_sqlite_gpkg", "transfer_stations", 2, "not a file format"),
    ("malformed_geojson", "transfer_stations", 2, "GeoJSON is malformed"),
    ("csv_text_in_coords", "transfer_stations", 2, "row 2 (line 3) column '经度' holds '东经119度'"),
    ("shp_no_crs_metres", "transfer_stations", 2, "no CRS"),
    ("csv_metres_no_crs", "transfer_stations", 2, "--crs EPSG:4549"),
    ("shp_latin1_no_cpg", "other", 2, "--encoding"),
    ("gpkg_empty_layer", "transfer_stations", 2, "empty"),
    ("gpkg_two_layers", "transfer_stations", 2, "say which one"),
    ("geojson_grids_missing_code", "grid_street_town", 2, "required column 'code'"),
    ("geojson_points_as_grids", "grid_street_town", 2, "needs Polygon geometries"),
    ("shp_without_shx", "transfer_stations", 0, ".shx was missing"),
    ("csv_swapped", "transfer_stations", 0, "swapped"),
    ("geojson_swapped", "transfer_stations", 0, "swapped"),
    ("shp_no_crs_lonlat", "transfer_stations", 0, "EPSG:4326"),
    ("shp_gbk_no_cpg", "transfer_stations", 0, "GBK"),
    ("gpkg_self_intersecting", "grid_street_town", 0, "repaired 1 invalid polygon"),
    ("gpkg_4528_labelled_4549", "transfer_stations", 0, "zone prefix 40"),
    ("gpkg_4549_labelled_4528", "transfer_stations", 0, "no zone prefix"),
]


def _err_lines(capsys):
    out, err = capsys.readouterr()
    return out, [ln for ln in err.splitlines() if ln.strip()]


@pytest.mark.parametrize("case, kind, code, phrase", CASES, ids=[c[0] for c in CASES])
def test_import_corpus(tmp_path, capsys, case, kind, code, phrase):
    src = getattr(corpus, case)(tmp_path)
    project = tmp_path / "project.gpkg"
    corpus._write(corpus.grids_4549(), project, layer="grid_district")
    before = project.read_bytes()
    rc = main(["import", str(src), "--kind", kind, "--into", str(project), "--layer", "imported"])
    out, err = _err_lines(capsys)
    assert rc == code, err
    assert "Traceback" not in "\n".join(err)
    if code == 2:
        assert len(err) == 1 and err[0].startswith("gridtool: error: ")
        assert phrase in err[0]
        assert project.read_bytes() == before  # nothing half-written
    else:
        assert any(ln.startswith("warning: ") and phrase in ln for ln in err), err
        assert out.startswith("imported ")
        names = {n for n, _ in pyogrio.list_layers(project)}
        assert names == {"grid_district", "imported"}
        got = pyogrio.read_dataframe(project, layer="imported")
        assert got.crs.to_epsg() == 4549 and len(got) == 3 and got.geometry.is_valid.all()
        if kind == "transfer_stations":
            np.testing.assert_allclose(
                np.sort(shapely.get_coordinates(got.geometry.array), axis=0),
                np.sort(shapely.get_coordinates(corpus.stations_4549().geometry.array), axis=0), atol=0.01)


def test_gbk_import_keeps_chinese_names(tmp_path, capsys):
    project = tmp_path / "p.gpkg"
    assert main(["import", str(corpus.shp_gbk_no_cpg(tmp_path)), "--kind", "transfer_stations", "--into", str(project)]) == 0
    got = pyogrio.read_dataframe(project, layer="transfer_stations")
    assert got["name"].tolist() == corpus.NAMES


def test_import_refuses_existing_layer_then_replaces_and_appends(tmp_path, capsys):
    src = corpus.csv_lonlat(tmp_path)
    project = tmp_path / "p.gpkg"
    args = ["import", str(src), "--kind", "transfer_stations", "--into", str(project)]
    assert main(args) == 0
    assert main(args) == 2
    _, err = _err_lines(capsys)
    assert "already has a layer 'transfer_stations'" in err[-1] and "--replace" in err[-1]
    assert main(args + ["--replace"]) == 0
    assert main(args + ["--append"]) == 0
    assert len(pyogrio.read_dataframe(project, layer="transfer_stations")) == 6


def test_import_gcj02_csv_and_options(tmp_path, capsys):
    project = tmp_path / "p.gpkg"
    rc = main(["import", str(corpus.csv_gcj02(tmp_path)), "--kind", "transfer_stations", "--into", str(project), "--coords", "gcj02"])
    assert rc == 0
    got = pyogrio.read_dataframe(project, layer="transfer_stations")
    np.testing.assert_allclose(shapely.get_coordinates(got.geometry.array),
                               shapely.get_coordinates(corpus.stations_4549().geometry.array), atol=0.05)
    with pytest.raises(SystemExit) as exc:
        main(["import", "x.csv", "--kind", "nope", "--into", str(project)])
    assert exc.value.code == 2
    assert main(["import", str(corpus.csv_lonlat(tmp_path)), "--kind", "transfer_stations", "--into", str(tmp_path / "p.txt")]) == 2
    assert "must be a GeoPackage" in _err_lines(capsys)[1][-1]


def test_csv_metres_rescued_with_crs_option(tmp_path, capsys):
    src = corpus.csv_metres_no_crs(tmp_path)
    assert main(["validate", str(src), "--kind", "transfer_stations", "--crs", "EPSG:4549"]) == 0
    out, err = _err_lines(capsys)
    assert out.startswith("ok: ") and "3 features" in out and err == []


def test_validate_reports_all_problems_on_one_line(tmp_path, capsys):
    rc = main(["validate", str(corpus.geojson_grids_missing_code(tmp_path)), "--kind", "grid_street_town"])
    _, err = _err_lines(capsys)
    assert rc == 2 and len(err) == 1
    assert "2 problems" in err[0] and "'code'" in err[0] and "'many'" in err[0]


def test_layers_table(tmp_path, capsys):
    assert main(["layers", str(corpus.good_gpkg(tmp_path))]) == 0
    out, _ = _err_lines(capsys)
    lines = out.splitlines()
    assert lines[0].split() == ["layer", "kind", "features", "geometry", "CRS"]
    assert lines[1].split() == ["transfer_stations", "transfer_stations", "3", "Point", "EPSG:4549"]


def test_layers_on_sample_lists_every_layer_with_counts(sample_gpkg, capsys):
    assert main(["layers", str(sample_gpkg)]) == 0
    out, _ = _err_lines(capsys)
    rows = {ln.split()[0]: ln.split() for ln in out.splitlines()[1:]}
    expected = {n: pyogrio.read_info(sample_gpkg, layer=n)["features"] for n, _ in pyogrio.list_layers(sample_gpkg)}
    assert set(rows) == set(expected)
    for name, n in expected.items():
        assert int(rows[name][2]) == n
    assert rows["grid_district"][1:] == ["grid_district", "1", "Polygon", "EPSG:4549"]


def test_validate_every_sample_layer(sample_gpkg, capsys):
    for name, _ in pyogrio.list_layers(sample_gpkg):
        assert main(["validate", f"{sample_gpkg}:{name}", "--kind", name]) == 0, capsys.readouterr().err


def _run(*args, cwd):
    env = dict(os.environ, GRIDTOOL_DEBUG="")
    return subprocess.run([sys.executable, "-m", "gridtool", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_subprocess_errors_have_no_traceback(tmp_path):
    truncated = corpus.truncated_gpkg(tmp_path)
    res = _run("layers", str(truncated), cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "malformed" in res.stderr
    res = _run("import", str(corpus.csv_text_in_coords(tmp_path)), "--kind", "transfer_stations",
               "--into", str(tmp_path / "p.gpkg"), cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "p.gpkg").exists()


def test_subprocess_import_succeeds(tmp_path):
    res = _run("import", str(corpus.shp_gbk_no_cpg(tmp_path)), "--kind", "transfer_stations",
               "--into", str(tmp_path / "p.gpkg"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stderr.startswith("warning: ") and "imported 3 features" in res.stdout


def test_bar_feedback_draws_progress_and_cancels():
    import io

    from gridtool.cli_progress import BarFeedback
    from gridtool.errors import Cancelled

    buf = io.StringIO()
    with BarFeedback("import", file=buf, disable=False, mininterval=0) as fb:
        fb.set_progress(40, "reading")
        fb.step(3, 4)
        assert fb.progress == 75.0 and fb.message == "reading"
        fb.cancel()
        with pytest.raises(Cancelled):
            fb.set_progress(80)
    assert "import" in buf.getvalue() and "75%" in buf.getvalue()
