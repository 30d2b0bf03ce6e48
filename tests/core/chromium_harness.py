"""Open an HTML file in headless Chromium, offline, and report what happened.

Uses Debian's ``chromium`` with the flags that keep it from phoning home
(``--disable-background-networking`` ...), ``--dump-dom`` to read the page after its
scripts ran (the exported page writes its state into ``#gt-status``), the console log
on stderr for errors, and a net log for every URL the browser requested.
"""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# Chromium's own service pings (component updates, time, accounts): not requests of the page.
_BROWSER_HOSTS = re.compile(r"^https?://([a-z0-9-]+\.)*(google\.com|googleapis\.com|gvt1\.com|gstatic\.com)(:\d+)?/")

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--enable-logging=stderr", "--v=0",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageRun:
    dom: str
    status: dict[str, str]
    console_errors: list[str]
    requests: list[str]
    seconds: float
    screenshot: Path | None = None
    all_urls: list[str] = field(default_factory=list)


def _status(dom: str) -> dict[str, str]:
    m = re.search(r'<div id="gt-status"([^>]*)>', dom)
    if not m:
        return {}
    return {k: html.unescape(v) for k, v in re.findall(r'(data-[\w-]+)="([^"]*)"', m.group(1))}


def open_page(path: Path, *, budget_ms: int = 8000, screenshot: Path | None = None, timeout_s: float = 90) -> PageRun:
    exe = chromium_path()
    if exe is None:
        raise RuntimeError("chromium is not installed; run scripts/setup.sh --test (Debian package 'chromium')")
    with tempfile.TemporaryDirectory() as tmp:
        net = Path(tmp) / "net.json"
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile", f"--log-net-log={net}",
               f"--virtual-time-budget={budget_ms}", "--window-size=1400,900"]
        cmd += [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd + [path.resolve().as_uri()], capture_output=True, text=True, timeout=timeout_s)
        seconds = time.perf_counter() - t0
        urls: list[str] = []
        if net.exists():
            try:
                log = json.loads(net.read_text(encoding="utf-8", errors="replace"))
            except json.JSONDecodeError:  # chromium may leave the closing bracket out
                log = json.loads(net.read_text(encoding="utf-8", errors="replace").rstrip().rstrip(",") + "]}")
            types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
            for ev in log.get("events", []):
                url = ev.get("params", {}).get("url")
                if url and types.get(ev["type"]) == "URL_REQUEST_START_JOB":
                    urls.append(url)
    console = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln and ("Uncaught" in ln or "Error" in ln)]
    requests = [u for u in urls if not u.startswith(("file:", "data:", "blob:", "chrome:", "about:"))
                and not _BROWSER_HOSTS.match(u)]
    return PageRun(dom=proc.stdout, status=_status(proc.stdout), console_errors=console, requests=requests,
                   seconds=seconds, screenshot=screenshot, all_urls=urls)
