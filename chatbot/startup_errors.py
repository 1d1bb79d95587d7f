"""What a command-line entry point prints as one line instead of a traceback: a setting to
fix, or a database it cannot reach. Anything else is a bug, and keeps its traceback."""

from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError

from chatbot import environment


def one_line(error: BaseException) -> str | None:
    """The line to print for ``error``, or None when it is not a set-up problem."""
    if isinstance(error, (ImproperlyConfigured, environment.InvalidSetting)):
        return f"chatbot: {error}"
    if isinstance(error, OperationalError) and _never_answered(error):
        return (
            f"chatbot: cannot reach the database ({error}); start it or correct DATABASE_URL "
            "(unset, the launcher runs a local PostgreSQL of its own)"
        )
    return None


def _never_answered(error: OperationalError) -> bool:
    """The server never answered (refused, down, pool timed out): psycopg's errors from the
    server carry an SQLSTATE, the client's own do not."""
    cause = error.__cause__
    return cause is not None and getattr(cause, "sqlstate", "") is None
