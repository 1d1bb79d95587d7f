"""How every background job runs, and how the worker reaches the database.

Each job is a unit of work (``chatbot/units_of_work.py``): its own context and log id, and a
cleanup when it ends. That middleware is the one place connections are looked after for jobs;
procrastinate's DjangoApp adds a per-task cleanup of its own, which is taken out here so there
is exactly one (the backend already gives connections back between queries).

The worker's connector: procrastinate fetches, finishes and LISTENs for jobs with psycopg's
async pool (its ``get_worker_connector``), while anything deferred with the sync API from the
process goes through Django's connection, and so joins the caller's ``atomic()`` block. In the
one-process layout (``make run``) the HTTP side records an event and queues its job in one
transaction while the worker runs; without this, swapping the app's connector for the worker
sent those jobs to another connection, outside the transaction.
"""

import logging
from typing import Any

from django.conf import settings
from procrastinate import App, JobContext, psycopg_connector
from procrastinate.connector import BaseConnector
from procrastinate.contrib.django import db_cleanup, django_connector
from procrastinate.contrib.django.utils import connector_params
from procrastinate.middleware import AsyncCallNext
from procrastinate.worker import Worker

from chatbot import units_of_work

logger = logging.getLogger(__name__)

# The worker's own connections (fetching, finishing, heartbeats; LISTEN holds one of them).
WORKER_POOL_SIZE = 4
# A worker proves it is alive every HEARTBEAT_SECONDS; after STALLED_AFTER_SECONDS without
# one, its running jobs are retried elsewhere (``chatbot.tasks.retry_stalled_jobs``, every
# STALLED_CHECK_SECONDS). After a kill -9, jobs run again within about 18 s of it (the issue's
# bound is 30 s from the restart; tests/test_process_faults.py). The window is five heartbeats
# long, so a worker whose event loop is busy for several seconds (a burst of questions on one
# core delays its timers by up to 8 s, README "Benchmark: a burst") is not declared dead.
HEARTBEAT_SECONDS = 3.0
STALLED_AFTER_SECONDS = 15.0
STALLED_CHECK_SECONDS = 3


async def run_in_own_context(call_next: AsyncCallNext, context: JobContext, worker: Worker) -> Any:
    """Worker middleware: each job is one unit of work."""
    async with units_of_work.unit_of_work(log_id=f"job-{context.job.id}"):
        return await call_next()


class WorkerConnector(psycopg_connector.PsycopgConnector):
    """psycopg's async pool for the worker; Django's connection for sync defers."""

    def __init__(self) -> None:
        super().__init__(
            kwargs=connector_params(), min_size=1, max_size=WORKER_POOL_SIZE, max_idle=60
        )
        self._django = django_connector.DjangoConnector()

    def get_sync_connector(self) -> BaseConnector:
        return self._django


class _DjangoConnector(django_connector.DjangoConnector):
    """The app's connector: ``manage.py procrastinate worker`` asks it for the worker's."""

    def get_worker_connector(self) -> WorkerConnector:
        return WorkerConnector()


def configure_app(app: App) -> None:
    """Called by procrastinate's Django app once it is ready (``PROCRASTINATE_ON_APP_READY``)."""
    app.connector = app.job_manager.connector = _DjangoConnector()
    defaults = app.worker_defaults
    app.worker_defaults = {
        **defaults,
        "concurrency": settings.CHATBOT_WORKER_CONCURRENCY,
        "shutdown_graceful_timeout": settings.CHATBOT_WORKER_SHUTDOWN_TIMEOUT,
        "update_heartbeat_interval": HEARTBEAT_SECONDS,
        # A starting worker deletes workers silent this long; their jobs then count as stalled.
        "stalled_worker_timeout": STALLED_AFTER_SECONDS,
        # LISTEN needs a server session of its own, which PgBouncer's transaction pooling does
        # not keep: there the worker polls for new jobs (every fetch_job_polling_interval, 5 s).
        "listen_notify": not settings.DATABASE_PGBOUNCER,
        "worker_middleware": [run_in_own_context, *defaults.get("worker_middleware", [])],
        "task_middleware": [
            middleware
            for middleware in defaults.get("task_middleware", [])
            if middleware
            not in (db_cleanup.close_db_connections, db_cleanup.close_db_connections_async)
        ],
    }
