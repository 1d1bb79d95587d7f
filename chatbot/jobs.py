"""How every background job runs: in its own ThreadSensitiveContext, with its connection closed.

Django's ASGI handler gives each request its own ``ThreadSensitiveContext`` and closes old
connections before and after it. A job is a unit of work just like a request, so it gets the
same treatment here. Without it, the async ORM calls of all concurrent jobs would share the
process-wide executor thread (and its one connection), and that connection would never be
returned to the pool.
"""

import logging
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.db import close_old_connections
from procrastinate import App, JobContext
from procrastinate.middleware import AsyncCallNext
from procrastinate.worker import Worker

from chatbot import log_context

logger = logging.getLogger(__name__)


def _release_connections() -> None:
    close_old_connections()


async def run_in_own_context(call_next: AsyncCallNext, context: JobContext, worker: Worker) -> Any:
    """Worker middleware: one ThreadSensitiveContext per job, connections closed around it."""
    job_id = context.job.id
    token = log_context.current_id.set(f"job-{job_id}")
    try:
        async with ThreadSensitiveContext():
            release = sync_to_async(_release_connections, thread_sensitive=True)
            await release()
            try:
                return await call_next()
            finally:
                await release()
    finally:
        log_context.current_id.reset(token)


def configure_app(app: App) -> None:
    """Called by procrastinate's Django app once it is ready (``PROCRASTINATE_ON_APP_READY``)."""
    app.worker_defaults = {
        **app.worker_defaults,
        "concurrency": settings.CHATBOT_WORKER_CONCURRENCY,
        "shutdown_graceful_timeout": settings.CHATBOT_WORKER_SHUTDOWN_TIMEOUT,
        "worker_middleware": [
            run_in_own_context,
            *app.worker_defaults.get("worker_middleware", []),
        ],
    }
