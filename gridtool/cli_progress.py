"""Progress bars for the command line: a :class:`~gridtool.feedback.Feedback` drawn by tqdm on stderr.

Usage in a command::

    with BarFeedback("coverage") as fb:
        result = compute_coverage(demand, facilities, radius_m=500, feedback=fb)

Ctrl-C cancels the work cleanly at its next :meth:`Feedback.check`.
"""
from __future__ import annotations

import sys
from typing import IO

from tqdm import tqdm

from gridtool.feedback import Feedback

__all__ = ["BarFeedback"]


class BarFeedback(Feedback):
    """A :class:`Feedback` that shows progress as a tqdm bar (0–100 %) on stderr.

    Parameters
    ----------
    description
        Text in front of the bar.
    file
        Where to draw (default ``sys.stderr``).
    disable
        True hides the bar; None (default) hides it when ``file`` is not a terminal.
    mininterval
        Least seconds between redraws.
    """

    def __init__(
        self, description: str = "", *, file: IO[str] | None = None, disable: bool | None = None,
        mininterval: float = 0.1,
    ) -> None:
        super().__init__(on_progress=self._draw)
        self._bar = tqdm(
            total=100, desc=description, file=file or sys.stderr, disable=disable, leave=False,
            mininterval=mininterval, miniters=1,
            unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} {postfix}",
        )
        self._last = 0.0

    def _draw(self, percent: float, message: str) -> None:
        delta = percent - self._last
        if delta:
            self._bar.update(delta)
            self._last = percent
        if message:
            self._bar.set_postfix_str(message, refresh=False)

    def close(self) -> None:
        """Remove the bar."""
        self._bar.close()

    def __enter__(self) -> "BarFeedback":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
