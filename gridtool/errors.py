"""Exception classes of gridtool.

Every error that bad input causes is a :class:`InputError` (a ``ValueError``), so
callers can tell "the data or the arguments are wrong" from bugs. Messages name the
argument or file, show the value, say what was expected and how to fix it: the CLI
prints them as one line on stderr and the GUI shows them in a dialog.
"""
from __future__ import annotations

__all__ = [
    "GridtoolError",
    "InputError",
    "ReadError",
    "CRSError",
    "SchemaError",
    "InfeasibleError",
    "ConflictError",
    "WorkflowError",
    "Cancelled",
]


class GridtoolError(Exception):
    """Base class of every error gridtool raises on purpose."""


class InputError(GridtoolError, ValueError):
    """The input (a file, an argument, a value) is at fault; the message says how to fix it."""


class ReadError(InputError):
    """A file could not be read: missing, corrupt, unsupported or empty."""


class CRSError(InputError):
    """The coordinate reference system is missing, wrong or suspicious."""


class SchemaError(InputError):
    """A layer lacks required columns or has values of the wrong type.

    Parameters
    ----------
    problems
        Every problem found, one sentence each; the message joins them so the user
        sees all of them at once rather than one per attempt.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [])


class InfeasibleError(InputError):
    """An optimisation or analysis problem has no solution for the given input."""


class ConflictError(GridtoolError):
    """A change was based on a stale version of a record and was refused."""


class WorkflowError(InputError):
    """A status change that the findings workflow does not allow."""


class Cancelled(GridtoolError):
    """The user cancelled a long-running operation (see :class:`gridtool.feedback.Feedback`)."""
