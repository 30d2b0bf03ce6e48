"""Run the benchmarks: every ``bench/bench_*.py`` in turn, each in its own process.

Usage::

    .venv/bin/python bench/run.py              # all benchmarks
    .venv/bin/python bench/run.py --only io    # bench_io.py only (NAME or bench_NAME)
    .venv/bin/python bench/run.py --quick      # fewer repeats and smaller inputs

Each benchmark prints one line per case (see ``bench/_common.py``). The exit code is
non-zero if any benchmark failed.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(only: list[str] | None = None) -> list[Path]:
    """Return the benchmark files, filtered by ``only`` (names with or without ``bench_``)."""
    files = sorted(HERE.glob("bench_*.py"))
    if only:
        wanted = {n.removeprefix("bench_").removesuffix(".py") for n in only}
        files = [f for f in files if f.stem.removeprefix("bench_") in wanted]
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", metavar="NAME", help="run only bench_NAME.py (repeatable)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller inputs (BENCH_QUICK=1)")
    args = parser.parse_args(argv)
    files = discover(args.only)
    if not files:
        print(f"no benchmark matches {args.only}; have: {[f.stem for f in discover()]}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    if args.quick:
        env["BENCH_QUICK"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(HERE.parent), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    failed = []
    for f in files:
        print(f"== {f.stem}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(f)], env=env, cwd=str(HERE.parent))
        print(f"== {f.stem}: {'ok' if rc == 0 else f'FAILED (exit {rc})'} in {time.perf_counter() - t0:.1f} s", flush=True)
        if rc != 0:
            failed.append(f.stem)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
