"""``gridtool site`` on the sample district."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from gridtool.cli import main

SAMPLE = str(Path(__file__).resolve().parents[2] / "sample_geodata" / "zhonglou.gpkg")


def test_site_p_median_writes_layers(tmp_path, capsys):
    out = tmp_path / "sites.gpkg"
    rc = main(["site", "--project", SAMPLE, "--model", "p-median", "--demand", "grid_community_village",
               "--candidates", "candidate_sites", "--existing", "transfer_stations", "--p", "7",
               "--time-limit", "60", "--out", str(out), "--quiet"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "p-median: 7 sites" in text and "proven optimal (gap 0)" in text
    assert "existing" in text and "proposed" in text and "mean_distance_m" in text
    names = set(pyogrio.list_layers(str(out))[:, 0])
    assert {"sites", "service_areas", "demand_assignment"} <= names
    sites = gpd.read_file(out, layer="sites")
    assert len(sites) == 7 and (sites["source"] == "existing").sum() == 5


def test_site_lscp_on_roads(tmp_path, capsys):
    rc = main(["site", "--project", SAMPLE, "--model", "lscp", "--demand", "grid_community_village",
               "--candidates", "candidate_sites", "--radius-m", "3000", "--network", "roads", "--quiet"])
    assert rc == 0
    assert "lscp:" in capsys.readouterr().out


def test_site_bad_input_exit_2(capsys):
    rc = main(["site", "--project", SAMPLE, "--model", "mclp", "--demand", "grid_community_village",
               "--candidates", "candidate_sites", "--p", "3"])
    assert rc == 2
    assert "needs --radius-m" in capsys.readouterr().err
    rc = main(["site", "--project", SAMPLE, "--model", "p-median", "--demand", "grid_community_village",
               "--candidates", "candidate_sites", "--p", "500", "--quiet"])
    assert rc == 2
    assert "p=500 is larger than the number of candidates (98)" in capsys.readouterr().err
    rc = main(["site", "--project", SAMPLE, "--model", "lscp", "--demand", "grid_community_village",
               "--candidates", "candidate_sites", "--radius-m", "5", "--quiet"])
    assert rc == 2
    assert "no candidate lies within reach of demand points" in capsys.readouterr().err
