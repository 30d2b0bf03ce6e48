"""``gridtool gui [PATH] [--screenshot OUT.png] [--size WxH] [--lang zh_CN|en]``: the desktop app.

The engine never imports Qt; this command loads the ``ui`` package only when run.
"""
from __future__ import annotations

import argparse
import importlib


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the map window (default when no command is given)")
    p.add_argument("path", nargs="?", help="a project file (.gridtool.json) or a GeoPackage; default: the sample district")
    p.add_argument("--screenshot", metavar="OUT.png", help="render the window to a PNG and exit")
    p.add_argument("--size", default="1600x1000", help="window size for --screenshot, WIDTHxHEIGHT (default 1600x1000)")
    p.add_argument("--lang", default=None, help="user-interface language: zh_CN (default) or en")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        app = importlib.import_module("ui.app")
    except ImportError as exc:
        from gridtool.errors import InputError

        raise InputError(
            f"the desktop application cannot start: {exc}. Install it with 'pip install -e .' "
            "(PyQt6) and the Qt system libraries listed in README.md"
        ) from exc
    return int(app.run(path=args.path, screenshot=args.screenshot, size=args.size, lang=args.lang) or 0)
