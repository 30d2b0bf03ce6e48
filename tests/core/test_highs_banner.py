"""HiGHS's start-up banner must not mix into command output on stdout."""
from __future__ import annotations

import subprocess
import sys


def test_site_stdout_has_no_highs_banner(sample_gpkg):
    proc = subprocess.run(
        [sys.executable, "-m", "gridtool", "site", "--project", str(sample_gpkg), "--model", "lscp",
         "--demand", "grid_community_village", "--candidates", "candidate_sites", "--radius-m", "3000", "--quiet"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Running HiGHS" not in proc.stdout and "lscp:" in proc.stdout
