"""Connections track database work, not questions in flight (docs/architecture.md).

Many questions wait on a slow model at the same time; PostgreSQL must never see more
connections from the product than Django's pool plus the worker's own. ``bench/
connection_budget.py`` runs the same test (CHATBOT_BENCH_QUESTIONS questions) and prints its table.
"""

import asyncio
import os
import threading
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connections
from procrastinate.contrib.django.utils import connector_params

from data import models
from tests.slack.conftest import event_callback, mention, post_signed, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)

QUESTIONS = int(os.environ.get("CHATBOT_BENCH_QUESTIONS", "200"))
MODEL_SECONDS = 2.0
WORKER_OWN_CONNECTIONS = 4  # procrastinate's worker connector: psycopg pool, min_size 4


def _poll_connections(stop: threading.Event, samples: list[int]) -> None:
    with psycopg.connect(**connector_params(), autocommit=True) as conn:
        while not stop.is_set():
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
            samples.append(row[0] if row else 0)
            stop.wait(0.02)


@pytest.fixture
def main_thread_connection_closed() -> None:
    connections.close_all()


@pytest.mark.usefixtures("main_thread_connection_closed")
async def test_questions_waiting_on_a_slow_model_share_a_few_connections(fake_slack, fake_openai):
    fake_openai.delay = MODEL_SECONDS
    for number in range(QUESTIONS):
        ts = f"1700000000.{number:06d}"
        body = event_callback(
            # As many people as questions: one person's questions are limited (admission.py).
            mention(f"how do I roll back a deploy? ({number})", ts=ts, user=f"U{number:05d}"),
            event_id=f"Ev{number}",
        )
        assert (await post_signed(body)).status_code == 200

    samples: list[int] = []
    stop = threading.Event()
    poller = asyncio.create_task(asyncio.to_thread(_poll_connections, stop, samples))
    started = time.perf_counter()
    try:
        await run_worker_until_idle(concurrency=QUESTIONS)
    finally:
        stop.set()
        await poller
    elapsed = time.perf_counter() - started

    answered = await models.Question.objects.filter(status=models.Question.Status.ANSWERED).acount()
    budget = settings.DATABASE_POOL_MAX_SIZE + WORKER_OWN_CONNECTIONS
    print(  # noqa: T201 (bench/connection_budget.py reads this table)
        f"\n| questions | model s/request | max model requests at once | answered "
        f"| peak connections | budget | seconds |\n"
        f"| {QUESTIONS} | {MODEL_SECONDS} | {fake_openai.max_in_flight} | {answered} "
        f"| {max(samples)} | {budget} | {elapsed:.1f} |"
    )
    assert answered == QUESTIONS
    assert len(fake_slack.calls_to("chat.stopStream")) == QUESTIONS
    # Far more questions were waiting on the model at once than there were connections.
    assert fake_openai.max_in_flight > budget
    assert max(samples) <= budget


def _busy_sessions() -> list[tuple[str, str]]:
    """Sessions of ours that are running a query or sit inside a transaction."""
    with psycopg.connect(**connector_params(), autocommit=True) as conn:
        return conn.execute(
            "SELECT state, query FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
            "AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')"
        ).fetchall()


@pytest.mark.usefixtures("main_thread_connection_closed")
async def test_jobs_waiting_on_a_slow_model_hold_no_connection(fake_slack, fake_openai):
    """No release call anywhere in the answer's code: the backend gives connections back."""
    fake_openai.delay = 2.0
    questions = 5
    for number in range(questions):
        body = event_callback(
            mention(
                f"how do I roll back? ({number})",
                ts=f"1700000001.{number:06d}",
                user=f"U{number:05d}",
            ),
            event_id=f"EvWait{number}",
        )
        assert (await post_signed(body)).status_code == 200
    worker = asyncio.create_task(run_worker_until_idle(concurrency=questions))
    try:
        # Every question's answer request is at the model...
        deadline = time.monotonic() + 15
        while fake_openai.in_flight < questions:
            assert time.monotonic() < deadline, f"only {fake_openai.in_flight} at the model"
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        # ...and meanwhile nothing is checked out of the pool, and PostgreSQL sees no query
        # running and no transaction open.
        checked_out, busy = [], []
        for _ in range(5):
            stats = connections["default"].pool.get_stats()  # type: ignore[attr-defined]
            checked_out.append(stats["pool_size"] - stats["pool_available"])
            busy.extend(await asyncio.to_thread(_busy_sessions))
            await asyncio.sleep(0.1)
        assert fake_openai.in_flight == questions  # still waiting while we looked
    finally:
        await worker

    assert checked_out == [0] * 5
    assert busy == []
    answered = await models.Question.objects.filter(status=models.Question.Status.ANSWERED).acount()
    assert answered == questions
