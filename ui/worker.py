"""Run gridtool functions off the GUI thread with a progress dialog and Cancel.

Usage (from any dialog)::

    from ui.worker import run_task

    def done(result):                       # runs in the GUI thread
        window.add_result_layer(result, "服务覆盖", kind="other")

    run_task(window, "Coverage", compute_coverage, demand.copy(), stations.copy(),
             radius_m=500, on_done=done)

``fn`` is called in a worker thread as ``fn(*args, feedback=fb, **kwargs)`` with a
:class:`gridtool.feedback.Feedback`; its ``set_progress`` moves the progress bar and
Cancel calls ``fb.cancel()`` so the function stops at its next ``check()``.
As the QGIS tasks cookbook says, copy the data you pass in (``gdf.copy()``) and touch
widgets and layers only in ``on_done``. Errors appear as a dialog with the error's
message (``on_error`` replaces that); a cancelled task calls ``on_cancel``.
"""
from __future__ import annotations

import concurrent.futures
import traceback
from typing import Any, Callable

from PyQt6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, pyqtSignal, pyqtSlot
from PyQt6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from gridtool.errors import Cancelled, GridtoolError
from gridtool.feedback import Feedback

__all__ = ["Task", "run_task"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("Worker", text)


_EXECUTOR: "concurrent.futures.ThreadPoolExecutor | None" = None


def _executor() -> "concurrent.futures.ThreadPoolExecutor":
    """The one long-lived Python worker thread that runs tasks, in order.

    Not Qt's thread pool: pyproj (PROJ) crashed (SIGFPE in proj_create) when a later
    task created a CRS on a pooled Qt thread whose Python thread state had been torn
    down and rebuilt between tasks (pyproj4/pyproj#1509 describes the same with Qt).
    A persistent Python thread keeps one thread state, and so one set of PROJ
    contexts, for the life of the app.
    """
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridtool-worker")
    return _EXECUTOR


class _Signals(QObject):
    progress = pyqtSignal(float, str)
    finished = pyqtSignal(object)
    failed = pyqtSignal(object, str)
    cancelled = pyqtSignal()


class _Runnable(QRunnable):
    def __init__(self, task: "Task") -> None:
        super().__init__()
        self.task = task
        self.setAutoDelete(True)

    def run(self) -> None:  # worker thread
        t = self.task
        try:
            result = t.fn(*t.args, feedback=t.feedback, **t.kwargs)
        except Cancelled:
            t.signals.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - every error reaches the user
            detail = "" if isinstance(exc, GridtoolError) else traceback.format_exc()
            t.signals.failed.emit(exc, detail)
        else:
            if t.feedback.cancelled:
                t.signals.cancelled.emit()
            else:
                t.signals.finished.emit(result)


class Task(QObject):
    """One background call of ``fn``; see :func:`run_task`.

    Signals
    -------
    progress(float, str)
        Percent and message, delivered in the GUI thread.
    finished(object)
        The function's return value (GUI thread).
    failed(object, str)
        The exception and, for unexpected errors, the traceback text.
    cancelled()
        The user cancelled (or the function raised :class:`Cancelled`).
    """

    progress = pyqtSignal(float, str)
    finished = pyqtSignal(object)
    failed = pyqtSignal(object, str)
    cancelled = pyqtSignal()

    def __init__(self, fn: Callable[..., Any], *args: Any, parent: QObject | None = None, **kwargs: Any) -> None:
        super().__init__(parent)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.signals = _Signals()
        self.feedback = Feedback(on_progress=lambda pct, msg: self.signals.progress.emit(pct, msg))
        q = Qt.ConnectionType.QueuedConnection
        self.signals.progress.connect(self.progress, q)
        self.signals.finished.connect(self._finish, q)
        self.signals.failed.connect(self._fail, q)
        self.signals.cancelled.connect(self._cancel_done, q)
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False

    def start(self, pool: QThreadPool | None = None) -> "Task":
        if pool is not None:
            pool.start(_Runnable(self))
        else:
            _executor().submit(_Runnable(self).run)
        return self

    def cancel(self) -> None:
        """Ask the function to stop at its next ``feedback.check()``."""
        self.feedback.cancel()

    @pyqtSlot(object)
    def _finish(self, result: Any) -> None:
        self.result, self.done = result, True
        self.finished.emit(result)

    @pyqtSlot(object, str)
    def _fail(self, exc: BaseException, detail: str) -> None:
        self.error, self.done = exc, True
        self.failed.emit(exc, detail)

    @pyqtSlot()
    def _cancel_done(self) -> None:
        self.done = True
        self.cancelled.emit()


def run_task(
    parent: QWidget | None,
    title: str,
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], Any] | None = None,
    on_error: Callable[[BaseException], Any] | None = None,
    on_cancel: Callable[[], Any] | None = None,
    show_progress: bool = True,
    **kwargs: Any,
) -> Task:
    """Run ``fn(*args, feedback=..., **kwargs)`` in a thread pool with a progress dialog.

    Parameters
    ----------
    parent
        The window the progress and error dialogs belong to.
    title
        Shown on the progress dialog (already translated).
    fn
        A gridtool function taking a ``feedback`` keyword.
    on_done
        Called in the GUI thread with the return value.
    on_error
        Called in the GUI thread with the exception; default: a warning dialog showing
        the error's message (plus the traceback for unexpected errors).
    on_cancel
        Called in the GUI thread when the user cancelled.
    show_progress
        Show a modal progress dialog with a Cancel button.

    Returns
    -------
    Task
        Keep it if you want its signals; the dialog keeps it alive otherwise.
    """
    task = Task(fn, *args, parent=parent, **kwargs)
    dialog: QProgressDialog | None = None
    if show_progress:
        dialog = QProgressDialog(title, _tr("Cancel"), 0, 100, parent)
        dialog.setWindowTitle(title)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setValue(0)
        dialog.canceled.connect(task.cancel)
        task.progress.connect(lambda pct, msg: (dialog.setValue(int(pct)), dialog.setLabelText(msg or title)))
        task._dialog = dialog  # keep a reference

    def close_dialog() -> None:
        if dialog is not None:
            dialog.canceled.disconnect(task.cancel)
            dialog.close()

    def done(result: Any) -> None:
        close_dialog()
        if on_done is not None:
            on_done(result)

    def failed(exc: BaseException, detail: str) -> None:
        close_dialog()
        if on_error is not None:
            on_error(exc)
            return
        text = str(exc) or exc.__class__.__name__
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
        if detail:
            box.setDetailedText(detail)
        box.exec()

    def cancelled() -> None:
        close_dialog()
        if on_cancel is not None:
            on_cancel()

    task.finished.connect(done)
    task.failed.connect(failed)
    task.cancelled.connect(cancelled)
    _running.add(task)
    for sig in (task.finished, task.failed, task.cancelled):
        sig.connect(lambda *a, t=task: _running.discard(t))
    return task.start()


_running: set[Task] = set()
