"""Findings store under crashes and concurrency: SIGKILL at random moments, several writer processes."""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gridtool.findings import FindingsStore
from tests.core.findings_fixtures import X0, Y0, grids_gpkg  # noqa: F401

REPO = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import sys
    from gridtool.findings import FindingsStore
    store = FindingsStore.open(sys.argv[1], grids=sys.argv[2], actor=sys.argv[3])
    x0, y0 = float(sys.argv[4]), float(sys.argv[5])
    n = int(sys.argv[6])
    mode = sys.argv[7]
    store.locator  # load the grids before the clock starts
    print("ready", flush=True)
    i = 0
    while n < 0 or i < n:
        r = store.add(x=x0 + 100 + (i * 37) % 3800, y=y0 + 100 + (i * 53) % 3800,
                      category="household", finding_type="other", description=f"{sys.argv[3]} #{i}")
        print("id", r.finding_id, flush=True)  # only after the commit returned
        if mode == "update" and i % 3 == 0:
            f = store.set_status(r.finding_id, "dispatched", expected_version=1)
            print("upd", f.finding_id, f.version, flush=True)
        i += 1
""")


def _spawn(store: Path, grids: Path, actor: str, n: int, mode: str = "add") -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store), str(grids), actor, str(X0), str(Y0), str(n), mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_finding(tmp_path, grids_gpkg):
    store_path = tmp_path / "kill.gpkg"
    FindingsStore.open(store_path, grids=grids_gpkg).close()
    acknowledged: list[str] = []
    rng = random.Random(20260301)
    for round_ in range(5):
        proc = _spawn(store_path, grids_gpkg, f"w{round_}", -1)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        deadline = time.monotonic() + rng.uniform(0.05, 0.6)
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("id "):
                acknowledged.append(line.split()[1])
        os.kill(proc.pid, signal.SIGKILL)
        rest, _err = proc.communicate()
        acknowledged += [ln.split()[1] for ln in rest.splitlines() if ln.startswith("id ")]
        assert proc.returncode == -signal.SIGKILL
    assert len(acknowledged) > 20
    con = sqlite3.connect(store_path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {r[0] for r in con.execute("SELECT finding_id FROM findings")}
    events = {r[0] for r in con.execute("SELECT finding_id FROM finding_events WHERE to_status = 'registered'")}
    con.close()
    assert set(acknowledged) <= stored
    assert stored == events  # every stored finding has its registration event (same transaction)
    assert len(set(acknowledged)) == len(acknowledged)
    with FindingsStore.open(store_path, grids=grids_gpkg) as s:  # the store still works after the kills
        assert s.add(x=X0 + 10, y=Y0 + 10, category="household", finding_type="other").finding.finding_id not in stored


@pytest.mark.slow
def test_several_processes_add_and_update_without_loss(tmp_path, grids_gpkg):
    store_path = tmp_path / "multi.gpkg"
    FindingsStore.open(store_path, grids=grids_gpkg).close()
    procs = [_spawn(store_path, grids_gpkg, f"p{i}", 60, "update") for i in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_o, err) in zip(procs, outs):
        assert p.returncode == 0, err
    ids = [ln.split()[1] for o, _e in outs for ln in o.splitlines() if ln.startswith("id ")]
    updated = [ln.split()[1] for o, _e in outs for ln in o.splitlines() if ln.startswith("upd ")]
    assert len(ids) == 240 and len(set(ids)) == 240
    with FindingsStore.open(store_path, grids=grids_gpkg) as s:
        assert {f.finding_id for f in s.findings()} == set(ids)
        assert {f.finding_id for f in s.findings(statuses=["dispatched"])} == set(updated)
        events = s.backend.select_events()
        assert len(events) == 240 + len(updated)
        assert s.integrity_check() == "ok"


def test_concurrent_stale_status_changes_one_wins_rest_conflict(tmp_path, grids_gpkg):
    store_path = tmp_path / "race.gpkg"
    with FindingsStore.open(store_path, grids=grids_gpkg) as s:
        fids = [s.add(x=X0 + 100 + 50 * i, y=Y0 + 100, category="household", finding_type="other").finding.finding_id
                for i in range(20)]
    script = textwrap.dedent("""
        import sys
        from gridtool.errors import ConflictError
        from gridtool.findings import FindingsStore
        s = FindingsStore.open(sys.argv[1], actor=sys.argv[2])
        for fid in sys.argv[3:]:
            try:
                s.set_status(fid, "dispatched" if sys.argv[2] == "a" else "rejected", expected_version=1)
                print("ok", fid, flush=True)
            except ConflictError:
                print("conflict", fid, flush=True)
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(store_path), who, *fids], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=REPO) for who in ("a", "b", "c")]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _o, e in outs]
    oks = [ln.split()[1] for o, _e in outs for ln in o.splitlines() if ln.startswith("ok ")]
    conflicts = [ln.split()[1] for o, _e in outs for ln in o.splitlines() if ln.startswith("conflict ")]
    assert sorted(oks) == sorted(fids)  # exactly one winner per finding
    assert len(conflicts) == 2 * len(fids)
    with FindingsStore.open(store_path) as s:
        for fid in fids:
            hist = s.history(fid)
            assert len(hist) == 2 and s.get(fid).version == 2
