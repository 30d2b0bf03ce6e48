"""OR-Library p-median instances: reader convention and published optima, proven."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gridtool.errors import ReadError
from gridtool.siting import p_median
from gridtool.siting_orlib import read_pmed, read_pmed_optima

DATA = Path(__file__).parent / "data" / "orlib"


def test_duplicate_edge_last_one_counts(tmp_path):
    f = tmp_path / "tiny.txt"
    f.write_text(" 3 3 1 \n 1 2 5 \n 2 3 4 \n 2 1 1 \n")
    d, p = read_pmed(f)
    assert p == 1
    assert d[0, 1] == 1 and d[0, 2] == 5 and d[2, 0] == 5


def test_reader_rejects_garbage(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text("not a pmed file")
    with pytest.raises(ReadError, match="not an OR-Library"):
        read_pmed(f)


def test_optima_table():
    opt = read_pmed_optima(DATA / "pmedopt.txt")
    assert len(opt) == 40 and opt["pmed1"] == 5819 and opt["pmed40"] == 5128


@pytest.mark.parametrize("name", ["pmed1", "pmed2", "pmed5"])
def test_published_optimum_proven(name):
    opt = read_pmed_optima(DATA / "pmedopt.txt")
    d, p = read_pmed(DATA / f"{name}.txt")
    res = p_median(d, np.ones(d.shape[0]), p)
    assert res.optimal and res.gap == 0
    assert round(res.objective) == opt[name]
    assert len(res.selected) == p
