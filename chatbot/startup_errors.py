"""What a command-line entry point prints as one line instead of a traceback: a setting to
fix, a database it cannot reach, or one not migrated yet. Anything else is a bug, and keeps
its traceback."""

from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, ProgrammingError

from chatbot import environment

_UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE for a relation that does not exist


def one_line(error: BaseException) -> str | None:
    """The line to print for ``error``, or None when it is not a set-up problem."""
    if isinstance(error, BaseExceptionGroup):
        # Concurrent work (a TaskGroup) that all failed for the same set-up reason.
        lines = {one_line(inner) for inner in error.exceptions}
        return lines.pop() if len(lines) == 1 else None
    if isinstance(error, (ImproperlyConfigured, environment.InvalidSetting)):
        return f"chatbot: {error}"
    if isinstance(error, OperationalError) and _never_answered(error):
        return (
            f"chatbot: cannot reach the database ({error}); start it or correct DATABASE_URL "
            "(unset, the launcher runs a local PostgreSQL of its own)"
        )
    if isinstance(error, ProgrammingError) and _sqlstate(error) == _UNDEFINED_TABLE:
        return (
            "chatbot: the database has no tables yet: run `make manage ARGS=migrate` "
            "(`make run` migrates by itself)"
        )
    return None


def _sqlstate(error: Exception) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


def _never_answered(error: OperationalError) -> bool:
    """The server never answered (refused, down, pool timed out): psycopg's errors from the
    server carry an SQLSTATE, the client's own do not."""
    cause = error.__cause__
    return cause is not None and getattr(cause, "sqlstate", "") is None
