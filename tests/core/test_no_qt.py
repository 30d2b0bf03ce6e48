"""The engine and the layer models must not load Qt (checked in a fresh interpreter)."""
from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import gridtool, gridtool.io, gridtool.crs, gridtool.schema, gridtool.paths, gridtool.cli_progress
import layers
from gridtool.cli import build_parser
build_parser()
qt = sorted(m for m in sys.modules if m.startswith(("PyQt6", "PyQt5", "PySide")))
print("QT:" + ",".join(qt))
"""


def test_gridtool_and_layers_load_no_qt():
    res = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "QT:", f"Qt modules loaded: {res.stdout.strip()}"


def test_layers_command_loads_no_qt(tmp_path):
    code = CODE.replace("build_parser()", "from gridtool.cli import main; main(['layers', sys.argv[1]])")
    from tests.core import corpus

    p = corpus.good_gpkg(tmp_path)
    res = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0].split()[0] == "layer" and any("transfer_stations" in ln for ln in lines)
    assert lines[-1] == "QT:", f"Qt modules loaded: {lines[-1]}"
