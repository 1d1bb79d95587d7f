"""How every background job runs: in its own ThreadSensitiveContext, with its connection closed.

Django's ASGI handler gives each request its own ``ThreadSensitiveContext`` and closes old
connections before and after it. A job is a unit of work just like a request, so it gets the
same treatment here. Without it, the async ORM calls of all concurrent jobs would share the
process-wide executor thread (and its one connection): they would queue behind each other, and
each job finishing would close that connection under the jobs still running.

procrastinate's own DjangoApp also closes the connection of the thread a task used (its
``close_db_connections`` task middleware, which runs inside this one, so on the job's thread).
The close here is then a second, cheap one; it keeps every unit of work shaped the same way
whatever procrastinate does. ``tests/test_jobs.py`` shows what each part is for.
"""

import logging
from typing import Any

from django.conf import settings
from procrastinate import App, JobContext
from procrastinate.middleware import AsyncCallNext
from procrastinate.worker import Worker

from chatbot import units_of_work

logger = logging.getLogger(__name__)


async def run_in_own_context(call_next: AsyncCallNext, context: JobContext, worker: Worker) -> Any:
    """Worker middleware: one ThreadSensitiveContext per job, connections closed around it."""
    async with units_of_work.unit_of_work(log_id=f"job-{context.job.id}"):
        return await call_next()


def configure_app(app: App) -> None:
    """Called by procrastinate's Django app once it is ready (``PROCRASTINATE_ON_APP_READY``)."""
    app.worker_defaults = {
        **app.worker_defaults,
        "concurrency": settings.CHATBOT_WORKER_CONCURRENCY,
        "shutdown_graceful_timeout": settings.CHATBOT_WORKER_SHUTDOWN_TIMEOUT,
        # LISTEN needs a server session of its own, which PgBouncer's transaction pooling does
        # not keep: there the worker polls for new jobs (every fetch_job_polling_interval, 5 s).
        "listen_notify": not settings.DATABASE_PGBOUNCER,
        "worker_middleware": [
            run_in_own_context,
            *app.worker_defaults.get("worker_middleware", []),
        ],
    }
