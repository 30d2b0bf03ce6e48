"""ui.worker.run_task: result in the GUI thread, errors as a dialog, cancel."""
from __future__ import annotations

import threading
import time

from PyQt6.QtWidgets import QMessageBox, QPushButton

from gridtool.errors import InputError
from ui.worker import run_task


def add(a, b, *, feedback):
    feedback.set_progress(50, "half")
    return (a + b, threading.current_thread() is threading.main_thread())


def test_result_arrives_in_the_gui_thread(qtbot):
    got = []
    task = run_task(None, "add", add, 2, 3, on_done=lambda r: got.append((r, threading.current_thread().name)),
                    show_progress=False)
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    (value, ran_in_main), done_thread = got[0]
    assert value == 5 and ran_in_main is False
    assert done_thread == threading.main_thread().name


def test_progress_is_forwarded(qtbot):
    seen = []
    task = run_task(None, "add", add, 1, 1, show_progress=False)
    task.progress.connect(lambda pct, msg: seen.append((pct, msg)))
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    qtbot.waitUntil(lambda: bool(seen), timeout=2000)
    assert seen[0] == (50.0, "half") and task.result == (2, False)


def fail(*, feedback):
    raise InputError("`radius_m` -5 must be > 0; pass a positive radius")


def test_errors_reach_the_user_as_a_dialog(qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda self: shown.append(self.text()) or 0)
    task = run_task(None, "Coverage", fail, show_progress=False)
    with qtbot.waitSignal(task.failed, timeout=5000):
        pass
    qtbot.waitUntil(lambda: bool(shown), timeout=2000)
    assert shown == ["`radius_m` -5 must be > 0; pass a positive radius"]
    errors = []
    task = run_task(None, "Coverage", fail, on_error=errors.append, show_progress=False)
    with qtbot.waitSignal(task.failed, timeout=5000):
        pass
    qtbot.waitUntil(lambda: bool(errors), timeout=2000)
    assert isinstance(errors[0], InputError)


def slow(*, feedback):
    for i in range(500):
        feedback.step(i, 500)
        time.sleep(0.01)
    return "finished"


def test_cancel_stops_the_work(qtbot):
    cancelled, done = [], []
    task = run_task(None, "slow", slow, on_done=done.append, on_cancel=lambda: cancelled.append(True),
                    show_progress=True)
    qtbot.wait(50)
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        task._dialog.findChild(QPushButton).click()  # the progress dialog's Cancel button
    qtbot.waitUntil(lambda: bool(cancelled), timeout=2000)
    assert done == [] and task.feedback.cancelled
