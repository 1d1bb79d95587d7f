"""Serve HTTP with uvicorn and run the job worker in the same process and event loop.

One process runs everything for a small install (``make run``); larger ones add workers with
``manage.py procrastinate worker``. On SIGINT/SIGTERM the HTTP server stops accepting
requests, running jobs get ``CHATBOT_WORKER_SHUTDOWN_TIMEOUT`` seconds to finish, and then
the process returns. A second signal, a second or more after the first, forces the exit (a
copy of the same Ctrl-C forwarded by a wrapper process arrives sooner, and is ignored).

The worker outlives database outages: when it stops (its listener lost the database, or a
query failed), the failure is logged and it is started again after a growing delay, while HTTP
goes on serving (``/healthz`` answers 503 until the database is back). Anything else ending on
its own before a stop signal is a failure: :class:`ServerFailed` is raised after shutdown.
"""

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from django.conf import settings
from procrastinate.contrib.django import app as job_app

from chatbot import database_pools, secure_cookies, slack_client, socket_mode

logger = logging.getLogger(__name__)

# A repeated signal sooner than this after the first is taken for a copy of the same one.
REPEATED_SIGNAL_WINDOW = 1.0
# Seconds before restarting a worker that stopped: one after another, then the last one.
WORKER_RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
# A worker that ran this long before stopping starts again with the first delay.
WORKER_HEALTHY_RUN = 60.0


class ServerFailed(Exception):
    """A part of the server (HTTP, the job worker) ended on its own, before any stop signal."""


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: ``serve`` coordinates shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(*, host: str, port: int, with_worker: bool = True) -> None:
    config = uvicorn.Config(
        "chatbot.asgi:application",
        host=host,
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    server = _Server(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    first_signal_at: float | None = None

    def on_signal(signum: int) -> None:
        nonlocal first_signal_at
        name = signal.Signals(signum).name
        if first_signal_at is None:
            first_signal_at = time.monotonic()
            logger.info("%s received: shutting down", name)
            stop.set()
            return
        if time.monotonic() - first_signal_at < REPEATED_SIGNAL_WINDOW:
            logger.info("%s again within %ss: taken for the same one", name, REPEATED_SIGNAL_WINDOW)
            return
        logger.warning("Second %s: forcing exit", name)
        server.force_exit = True
        if worker_task is not None:
            worker_task.cancel()

    previous_handlers = _add_signal_handlers(loop, on_signal)
    if (
        with_worker
        and settings.DATABASE_POOL_MAX_SIZE
        and settings.CHATBOT_DATABASE_THREADS >= settings.DATABASE_POOL_MAX_SIZE
        and not settings.DATABASE_PGBOUNCER
    ):
        # Jobs hold at most one connection per database thread; the rest of the pool is what
        # HTTP requests can always get.
        logger.warning(
            "CHATBOT_DATABASE_THREADS (%s) is not below DATABASE_POOL_MAX_SIZE (%s): busy jobs "
            "can hold every pooled connection at once and make HTTP requests wait",
            settings.CHATBOT_DATABASE_THREADS,
            settings.DATABASE_POOL_MAX_SIZE,
        )

    if problem := secure_cookies.server_problem(host=host):
        logger.warning("%s", problem)

    worker_task: asyncio.Task[None] | None = None
    server_task = asyncio.create_task(server.serve(), name="http")
    if with_worker:
        worker_task = asyncio.create_task(_keep_worker_running(), name="worker")
    socket_task = (
        asyncio.create_task(socket_mode.run(), name="slack-socket-mode")
        if socket_mode.enabled()
        else None
    )
    watched = {server_task, *([worker_task] if worker_task else [])}
    stop_task = asyncio.create_task(stop.wait(), name="stop")
    ended: list[str] = []
    try:
        done, _ = await asyncio.wait({stop_task, *watched}, return_when=asyncio.FIRST_COMPLETED)
        for task in done & watched:
            ended.append(task.get_name())
            if task.cancelled():
                logger.error("%s was cancelled unexpectedly: shutting down", task.get_name())
            elif (error := task.exception()) is not None:
                logger.error(
                    "%s stopped unexpectedly: shutting down", task.get_name(), exc_info=error
                )
            else:
                logger.error("%s stopped on its own: shutting down", task.get_name())
    finally:
        server.should_exit = True
        if socket_task is not None:
            socket_task.cancel()
        if worker_task is not None and not worker_task.done():
            # Cancelling run_worker_async is procrastinate's graceful stop: no new jobs,
            # running ones get shutdown_graceful_timeout seconds, then they are aborted.
            worker_task.cancel()
        await asyncio.gather(
            server_task,
            *([worker_task] if worker_task else []),
            *([socket_task] if socket_task else []),
            return_exceptions=True,
        )
        stop_task.cancel()
        _restore_signal_handlers(loop, previous_handlers)
        await slack_client.close_shared_session()
        await asyncio.to_thread(database_pools.close)
    if ended:
        raise ServerFailed(f"{', '.join(sorted(ended))} stopped before any stop signal")
    logger.info("Stopped")


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _add_signal_handlers(
    loop: asyncio.AbstractEventLoop, on_signal: Any
) -> dict[signal.Signals, Any]:
    previous = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    for signum in _SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    return previous


def _restore_signal_handlers(
    loop: asyncio.AbstractEventLoop, previous: dict[signal.Signals, Any]
) -> None:
    """Put back what the caller had (asyncio would leave SIGTERM at its default: death)."""
    for signum, handler in previous.items():
        loop.remove_signal_handler(signum)
        signal.signal(signum, handler)


async def _keep_worker_running() -> None:
    """Run the job worker until cancelled, starting it again whenever it stops.

    procrastinate's worker stops when its listener loses the database, and its shutdown fails
    while the database is away; neither should take HTTP down with it.
    """
    failures = 0
    while True:
        started = time.monotonic()
        failure: Exception | None = None
        try:
            await _run_worker()
        except Exception as error:
            failure = error
        if time.monotonic() - started >= WORKER_HEALTHY_RUN:
            failures = 0
        delay = WORKER_RESTART_DELAYS[min(failures, len(WORKER_RESTART_DELAYS) - 1)]
        failures += 1
        logger.error("Job worker stopped; starting it again in %.0fs", delay, exc_info=failure)
        await asyncio.sleep(delay)


async def _run_worker() -> None:
    # Async work on the worker's own pool, sync defers (the HTTP side's, inside its atomic
    # block) still on Django's connection: see chatbot/jobs.py.
    connector = job_app.connector.get_worker_connector()  # type: ignore[attr-defined]
    with job_app.replace_connector(connector):
        try:
            # Opened here rather than with `async with app.open_async()`, whose exit is skipped
            # when opening fails: the pool would go on trying to connect in the background.
            await connector.open_async()
            logger.info(
                "Job worker running (concurrency %s, %s database threads)",
                settings.CHATBOT_WORKER_CONCURRENCY,
                settings.CHATBOT_DATABASE_THREADS,
            )
            await job_app.run_worker_async(install_signal_handlers=False)
        finally:
            await connector.close_async()
