"""Findings added per second: the PostgreSQL/PostGIS store vs the GeoPackage store.

Each case adds findings one by one through :meth:`FindingsStore.add` (validation, grid
lookup, duplicate search, one committed transaction per finding, then a read back) to a
fresh store: 1 client (one process) and 4 clients (4 processes adding at the same time,
timed from a common start signal to the last finding committed). "ours" is the
PostgreSQL store, "peer" the GeoPackage (SQLite WAL, ``synchronous=FULL``) store in the
same run; findings/s are printed for both.

Server: ``GRIDTOOL_TEST_PG`` when set, otherwise a throwaway cluster is started with
``scripts/pg_throwaway.sh`` (and stopped). Note the throwaway cluster runs with
``fsync=off``; a production server fsyncs its WAL on commit (set
``synchronous_commit``/hardware accordingly), the GeoPackage here does fsync.

Run: ``.venv/bin/python bench/bench_findings_pg.py`` (``BENCH_QUICK=1`` for fewer findings).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _common import quick  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

WORKER = r"""
import sys, time
from gridtool.findings import FindingsStore
loc, grids, k, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
x0, y0 = 490000.0, 3516000.0
store = FindingsStore.open(loc, grids=grids, actor=f"w{k}")
store.locator  # load the grids before the clock starts
print("ready", flush=True)
sys.stdin.readline()
for i in range(n):
    store.add(x=x0 + 50 + (i * 37 + k * 911) % 3900, y=y0 + 50 + (i * 53 + k * 577) % 3900,
              category="household", finding_type="other", description=f"w{k} #{i}")
print("done", flush=True)
store.close()
"""


def run_clients(location_for, grids: Path, clients: int, n_each: int) -> float:
    """Wall time (s) for ``clients`` processes to add ``n_each`` findings each to a fresh store."""
    from gridtool.findings import FindingsStore

    loc = location_for()
    FindingsStore.open(loc, grids=grids).close()  # create the store before timing
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, loc, str(grids), str(k), str(n_each)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
             for k in range(clients)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    t0 = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        assert p.stdout.readline().strip() == "done"
    wall = time.perf_counter() - t0
    for p in procs:
        p.wait()
    return wall


def main() -> None:
    from tests.core.findings_fixtures import write_grids

    started = None
    url = os.environ.get("GRIDTOOL_TEST_PG")
    if not url:
        out = subprocess.run(["bash", str(REPO / "scripts" / "pg_throwaway.sh"), "start"], check=True,
                             capture_output=True, text=True).stdout
        env = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines() if "=" in line)
        url, started = env["GRIDTOOL_TEST_PG"], env["GRIDTOOL_TEST_PG_DIR"]
    tmp = Path(tempfile.mkdtemp(prefix="bench-findings-"))
    schemas: list[str] = []
    try:
        grids = write_grids(tmp / "grids.gpkg")

        def pg() -> str:
            schemas.append("bench_" + uuid.uuid4().hex[:10])
            return url + ("&" if "?" in url else "?") + "schema=" + schemas[-1]

        def gpkg() -> str:
            return str(tmp / f"{uuid.uuid4().hex[:8]}.gpkg")

        n = 100 if quick() else 500
        repeat = 2 if quick() else 3
        for clients in (1, 4):
            total = n * clients
            ours = [run_clients(pg, grids, clients, n) for _ in range(repeat)]
            peer = [run_clients(gpkg, grids, clients, n) for _ in range(repeat)]
            o, p = statistics.median(ours), statistics.median(peer)
            print(f"add {total} findings, {clients} client(s): ours (PostgreSQL) median {o:.2f} s = "
                  f"{total / o:.0f} findings/s, peer (GeoPackage) median {p:.2f} s = {total / p:.0f} findings/s, "
                  f"ratio peer/ours {p / o:.2f} (repeat {repeat})", flush=True)
    finally:
        if schemas:
            import psycopg

            with psycopg.connect(url, autocommit=True) as con:
                for s in schemas:
                    con.execute(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')
        if started:
            subprocess.run(["bash", str(REPO / "scripts" / "pg_throwaway.sh"), "stop", started], check=False)


if __name__ == "__main__":
    main()
