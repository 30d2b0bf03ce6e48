"""Shared helper of the benchmarks: time our code and the obvious alternative in one run.

Every ``bench/bench_<topic>.py`` calls :func:`compare` once per case; it prints one line::

    read 300k points: ours median 0.412 s, peer median 21.3 s, ratio peer/ours 51.7 (repeat 5)

so that figures of different benchmarks read the same way. A ratio above 1 means we
are faster. ``bench/run.py`` discovers and runs the benchmark files.
"""
from __future__ import annotations

import os
import statistics
import time
from typing import Any, Callable

__all__ = ["compare", "interleaved", "quick", "timed", "fmt_seconds"]


def quick() -> bool:
    """True when the runner asked for a quick pass (``bench/run.py --quick`` or ``BENCH_QUICK=1``)."""
    return os.environ.get("BENCH_QUICK", "") not in ("", "0")


def timed(func: Callable[[], Any], repeat: int, setup: Callable[[], Any] | None = None) -> list[float]:
    """Run ``func`` ``repeat`` times (``setup`` before each run, not timed); return the wall times in s."""
    times: list[float] = []
    for _ in range(max(1, repeat)):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return times


def _fmt(seconds: float) -> str:
    if seconds >= 100:
        return f"{seconds:.0f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def compare(
    name: str,
    ours: Callable[[], Any],
    peer: Callable[[], Any],
    repeat: int = 5,
    setup: Callable[[], Any] | None = None,
    *,
    peer_repeat: int | None = None,
    peer_name: str = "peer",
) -> dict:
    """Time ``ours`` and ``peer`` in the same process and print medians and their ratio.

    Parameters
    ----------
    name
        What is measured, e.g. ``"read 300k points"``.
    ours, peer
        Callables without arguments; their return values are ignored.
    repeat
        Runs of each (the median is reported). In quick mode (:func:`quick`) at most 2.
    setup
        Called before every run of either callable and not timed (e.g. to drop caches).
    peer_repeat
        Runs of ``peer`` if it should differ from ``repeat`` (for very slow peers).
    peer_name
        Label of the peer in the printed line (e.g. ``"fiona"``).

    Returns
    -------
    dict
        ``name``, ``ours_s`` and ``peer_s`` (medians), ``ratio`` (peer / ours; > 1 means
        we are faster), and the raw ``ours_times`` / ``peer_times``.
    """
    if quick():
        repeat = min(repeat, 2)
        peer_repeat = min(peer_repeat or repeat, 2)
    ours_times = timed(ours, repeat, setup)
    peer_times = timed(peer, peer_repeat or repeat, setup)
    ours_s = statistics.median(ours_times)
    peer_s = statistics.median(peer_times)
    ratio = peer_s / ours_s if ours_s > 0 else float("inf")
    print(
        f"{name}: ours median {_fmt(ours_s)}, {peer_name} median {_fmt(peer_s)}, "
        f"ratio {peer_name}/ours {ratio:.2f} (repeat {len(ours_times)}/{len(peer_times)})",
        flush=True,
    )
    return {
        "name": name,
        "ours_s": ours_s,
        "peer_s": peer_s,
        "ratio": ratio,
        "ours_times": ours_times,
        "peer_times": peer_times,
    }


fmt_seconds = _fmt


def interleaved(
    name: str,
    ours: Callable[[], Any],
    peer: Callable[[], Any],
    rounds: int = 5,
    *,
    peer_name: str = "peer",
    setup: Callable[[], Any] | None = None,
) -> float:
    """Alternate ours / peer runs and print medians and the median of the paired ratios.

    Fairer than :func:`compare` on a loaded machine: each pair of runs sees about the
    same load. Returns the median paired ratio (peer / ours; > 1 means we are faster).
    """
    import numpy as np

    rounds = min(rounds, 2) if quick() else rounds
    o: list[float] = []
    p: list[float] = []
    for _ in range(rounds):
        o += timed(ours, 1, setup)
        p += timed(peer, 1, setup)
    ratio = float(np.median(np.array(p) / np.array(o)))
    print(
        f"{name} (interleaved): ours median {_fmt(float(np.median(o)))}, {peer_name} median "
        f"{_fmt(float(np.median(p)))}, median paired ratio {peer_name}/ours {ratio:.2f} (rounds {rounds})",
        flush=True,
    )
    return ratio
