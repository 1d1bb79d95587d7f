"""Faults with real processes: ``make run`` killed with kill -9, and PostgreSQL restarted, while
questions are being answered. Nothing is lost, nothing is answered twice.

A small burst here; ``bench/faults.py`` runs the same with 100 questions in flight.
"""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import process_faults
from tests.fakes.openai import FakeOpenAI
from tests.fakes.slack import FakeSlack

QUESTIONS = 12
# After a kill -9 the dead worker's jobs run again once it has been silent for
# STALLED_AFTER_SECONDS, at the next check: the bound is 30 s from the restart.
RECOVERY_BOUND = 30.0


@pytest.fixture
def product(
    data_template: Path, tmp_path: Path, fakes: tuple[FakeSlack, FakeOpenAI]
) -> Iterator[process_faults.Product]:
    slack, model = fakes
    data_dir = tmp_path / "data"
    process_faults.copy_data_dir(data_template, data_dir)
    env = process_faults.product_env(
        data_dir=data_dir, port=process_faults.free_port(), slack_url=slack.url, model_url=model.url
    )
    running = process_faults.Product(env=env, log=tmp_path / "product.log")
    try:
        yield running
    finally:
        running.stop()


async def test_kill_9_with_questions_in_flight_then_restart_answers_each_exactly_once(
    product, fakes
):
    slack, model = fakes
    model.delay = 3.0  # long enough to kill the product while every question waits on it
    threads = [process_faults.thread_of(n) for n in range(1, QUESTIONS + 1)]
    async with httpx.AsyncClient(timeout=30) as client:
        product.start()
        await product.wait_ready(client)
        assert await product.ask(client, count=QUESTIONS, run="kill") == [200] * QUESTIONS
        await process_faults.wait_in_flight(model, count=QUESTIONS // 2)

        product.kill()
        unanswered = process_faults.tally(slack, threads).lost
        assert unanswered, "the kill came too late: every question was already answered"
        model.delay = 0.2
        restarted = time.monotonic()
        product.start()
        result = await process_faults.wait_answered(slack, threads, seconds=90)

    assert result.lost == [], product.output()[-3000:]
    assert result.doubled == []
    assert sorted(result.answered_once) == sorted(threads)
    assert result.complete_at is not None
    recovered_in = result.complete_at - restarted
    assert recovered_in <= RECOVERY_BOUND, f"answered {recovered_in:.1f} s after the restart"
    statuses = process_faults.question_statuses(data_dir=product.data_dir)
    assert statuses == {"ANSWERED": QUESTIONS}


async def test_postgres_restarted_with_questions_in_flight_answers_each_exactly_once(
    product, fakes
):
    slack, model = fakes
    model.delay = 3.0
    threads = [process_faults.thread_of(n) for n in range(1, QUESTIONS + 1)]
    database = process_faults.cluster(product.data_dir)
    async with httpx.AsyncClient(timeout=30) as client:
        product.start()
        await product.wait_ready(client)
        ready_before = (await client.get(f"{product.base}/readyz")).status_code
        assert await product.ask(client, count=QUESTIONS, run="pg") == [200] * QUESTIONS
        await process_faults.wait_in_flight(model, count=QUESTIONS // 2)

        # pg_ctl stop, a few seconds down, pg_ctl start: a restart with an outage long enough
        # to see what the product says meanwhile.
        await asyncio.to_thread(database.stop)
        during = [(await client.get(f"{product.base}/healthz")).status_code for _ in range(3)]
        ready_during = (await client.get(f"{product.base}/readyz")).status_code
        await asyncio.sleep(3)
        await asyncio.to_thread(database.start)
        model.delay = 0.2
        result = await process_faults.wait_answered(slack, threads, seconds=120)
        after = (await client.get(f"{product.base}/healthz")).status_code
        ready_after = (await client.get(f"{product.base}/readyz")).status_code

    assert set(during) == {503}
    assert after == 200
    assert (ready_before, ready_during, ready_after) == (200, 503, 200)
    assert result.lost == [], product.output()[-3000:]
    assert result.doubled == []
    assert process_faults.question_statuses(data_dir=product.data_dir) == {"ANSWERED": QUESTIONS}
