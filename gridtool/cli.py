"""The ``gridtool`` command line (argparse).

Run ``gridtool`` with no arguments to open the desktop application on the sample
district; every other sub-command works without Qt. Exit codes: 0 success,
2 bad input (one line on stderr naming what, where and how to fix), 130 cancelled,
1 an unexpected internal error.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from gridtool import __version__
from gridtool.errors import Cancelled, ConflictError, GridtoolError, InputError

__all__ = ["main", "build_parser", "COMMAND_MODULES"]

# One module a topic; each has register(subparsers). Add yours here.
COMMAND_MODULES: list[str] = [
    "gridtool.commands.gui",
    "gridtool.commands.layers",
    "gridtool.commands.export_html",
    "gridtool.commands.coverage",
    "gridtool.commands.patrol",
    "gridtool.commands.findings",
    "gridtool.commands.site",
]


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gridtool",
        description="Zhonglou zero-waste-city grid supervision GIS. Without a command, opens the map window.",
    )
    parser.add_argument("--version", action="version", version=f"gridtool {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or exc.__class__.__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["gui"]
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(func(args) or 0)
    except Cancelled:
        print("gridtool: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("gridtool: interrupted", file=sys.stderr)
        return 130
    except ConflictError as exc:
        print(f"gridtool: conflict: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (InputError, GridtoolError) as exc:
        print(f"gridtool: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"gridtool: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # an internal error: one line, traceback on request
        if os.environ.get("GRIDTOOL_DEBUG"):
            raise
        print(
            f"gridtool: internal error: {exc.__class__.__name__}: {_one_line(exc)} "
            "(set GRIDTOOL_DEBUG=1 to see the traceback, and please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
