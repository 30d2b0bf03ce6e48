"""Progress and cancellation for long work, without Qt (after QGIS ``QgsFeedback``).

An analysis takes an optional :class:`Feedback`, calls :meth:`Feedback.set_progress`
now and then and :meth:`Feedback.check` at safe points. The CLI shows progress as a
bar (:class:`gridtool.cli_progress.BarFeedback`), the GUI forwards it to a progress dialog
from a worker thread and calls :meth:`Feedback.cancel` when the user presses Cancel.
"""
from __future__ import annotations

import threading
from typing import Callable

from gridtool.errors import Cancelled

__all__ = ["Feedback", "ensure_feedback"]


class Feedback:
    """Thread-safe progress (0–100) and a cancel flag.

    Parameters
    ----------
    on_progress
        Called with ``(percent, message)`` whenever progress changes. It runs in the
        thread that does the work; a GUI must hand it over to its own thread.
    """

    def __init__(self, on_progress: Callable[[float, str], None] | None = None) -> None:
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._progress = 0.0
        self._message = ""
        self._on_progress = on_progress

    # -- progress ---------------------------------------------------------------
    @property
    def progress(self) -> float:
        """Last progress reported, in percent (0–100)."""
        return self._progress

    @property
    def message(self) -> str:
        """Last message reported with the progress."""
        return self._message

    def set_progress(self, percent: float, message: str | None = None) -> None:
        """Report progress in percent; raises :class:`Cancelled` when cancelled."""
        with self._lock:
            self._progress = min(100.0, max(0.0, float(percent)))
            if message is not None:
                self._message = message
            progress, msg = self._progress, self._message
        if self._on_progress is not None:
            self._on_progress(progress, msg)
        self.check()

    def step(self, done: int, total: int, message: str | None = None, *, lo: float = 0.0, hi: float = 100.0) -> None:
        """Report ``done`` of ``total`` items mapped onto the range ``lo``–``hi`` percent."""
        frac = 1.0 if total <= 0 else done / total
        self.set_progress(lo + (hi - lo) * frac, message)

    # -- cancellation -----------------------------------------------------------
    def cancel(self) -> None:
        """Ask the work to stop at its next :meth:`check`."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the user asked to stop."""
        if self._cancel.is_set():
            raise Cancelled("cancelled by the user")


def ensure_feedback(feedback: Feedback | None) -> Feedback:
    """Return ``feedback``, or a silent one when it is None."""
    return feedback if feedback is not None else Feedback()
