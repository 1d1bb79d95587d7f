"""One id per unit of work (request or job), carried by a context variable into every log line.

A context variable follows the work across ``await`` and into ``sync_to_async`` threads, so
log lines from the ORM thread still say which request or job they belong to.
"""

import contextvars
import logging
import uuid

current_id: contextvars.ContextVar[str] = contextvars.ContextVar("log_id", default="-")


def new_id() -> str:
    return uuid.uuid4().hex[:12]


class ContextFilter(logging.Filter):
    """Adds ``log_id`` to every record so the formatter can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.log_id = current_id.get()
        return True


class OneLineFormatter(logging.Formatter):
    """One event, one line: multi-line messages and tracebacks are folded with ``\\n``.

    Log collectors split on newlines; a traceback spread over twenty lines becomes twenty
    unrelated events without the request id.
    """

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", "\\n")
