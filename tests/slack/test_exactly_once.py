"""Exactly once across outages: a re-run asks Slack before posting, and answer-again is per click.

The database can go away between posting an answer and recording it (the ts, the delivery).
Every message of an answer carries Slack message metadata naming it, so the job's retry finds
the message in the thread (``conversations.replies``) instead of posting a second copy.
"""

import asyncio

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob
from procrastinate.contrib.django.utils import connector_params

from application.answering import again
from chatbot import tasks
from data import models
from tests.slack.conftest import event_callback, mention, post_signed, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)

THREAD = "1700000000.000100"


def _allow_connections(*, allowed: bool) -> None:
    params = connector_params()
    name = params.pop("dbname")
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')


def _new_pool(*, timeout: float) -> float:
    """Close the pool, so the next query needs a new connection within ``timeout`` seconds."""
    options = connection.settings_dict["OPTIONS"]["pool"]
    before, options["timeout"] = options["timeout"], timeout
    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]
    return before


async def _database_reachable(*, reachable: bool, pool_timeout: float = 1.0) -> float:
    """An outage (the database refuses connections, none left in the pool) or its end."""
    await asyncio.to_thread(_allow_connections, allowed=reachable)
    return await sync_to_async(_new_pool, thread_sensitive=True)(timeout=pool_timeout)


@pytest.mark.parametrize("method", ["chat.startStream", "chat.postMessage"])
async def test_an_answer_posted_just_before_the_database_went_away_is_not_posted_again(
    fake_slack, method
):
    if method == "chat.postMessage":
        fake_slack.refuse["chat.startStream"] = "not_allowed"  # posted as Block Kit instead
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    event = await models.SlackEvent.objects.aget()
    fake_slack.hold[method] = asyncio.Event()
    run = asyncio.create_task(tasks.answer_event(slack_event_id=event.pk))
    try:
        # The answer is stored and on its way to Slack; then the database goes away, so
        # neither the message's ts nor the delivery is recorded.
        reached = fake_slack.reached.setdefault(method, asyncio.Event())
        await asyncio.wait_for(reached.wait(), timeout=30)
        timeout = await _database_reachable(reachable=False)
        fake_slack.hold.pop(method).set()
        with pytest.raises(Exception):  # noqa: B017, PT011 (whatever the outage raised)
            await run
    finally:
        await _database_reachable(reachable=True, pool_timeout=timeout)
    answer = await models.Answer.objects.aget()
    assert answer.slack_message_ts == ""
    assert answer.delivered_at is None

    # The database is back and the job's retry runs.
    await tasks.answer_event(slack_event_id=event.pk)

    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert "make rollback" in reply.text
    assert reply.metadata == {
        "event_type": "chatbot_answer",
        "event_payload": {"question_id": answer.question_id, "answer_id": answer.pk, "part": 0},
    }
    await answer.arefresh_from_db()
    assert answer.slack_message_ts == reply.ts
    assert answer.delivered_at is not None
    assert (await models.Question.objects.aget()).status == models.Question.Status.ANSWERED


async def test_a_retry_that_cannot_ask_slack_posts_nothing_and_tries_again_later(fake_slack):
    fake_slack.refuse["chat.startStream"] = "not_allowed"
    fake_slack.refuse["chat.postMessage"] = "channel_not_found"
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()
    event = await models.SlackEvent.objects.aget()
    fake_slack.refuse.pop("chat.postMessage")
    fake_slack.server_errors["conversations.replies"] = 100

    with pytest.raises(Exception, match=r"conversations|500|internal"):
        await tasks.answer_event(slack_event_id=event.pk)

    assert fake_slack.replies(thread_ts=THREAD) == []
    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.UNDELIVERED


async def _run_worker_until_no_job_waits() -> None:
    """A question's answer-again jobs wait for each other (a lock); the test's worker stops
    when none can start, so it runs again until every one has."""
    while await ProcrastinateJob.objects.filter(status="todo").aexists():
        await run_worker_until_idle()


def _queue_answer_again(question_id: int) -> int:
    return again.request(question_ids=[question_id], enqueue=tasks.queue_answer_again)


async def test_answer_again_clicked_twice_gives_one_new_answer(fake_slack):
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()
    question = await models.Question.objects.aget()

    # A double click (or a retried POST): two requests before the worker gets to either.
    for _ in range(2):
        await sync_to_async(_queue_answer_again, thread_sensitive=True)(question.pk)
    await _run_worker_until_no_job_waits()

    assert await models.Answer.objects.acount() == 2  # the first answer and one new one
    assert len(fake_slack.replies(thread_ts=THREAD)) == 2

    # A later click, once that answer is there, is a new request: another answer.
    await sync_to_async(_queue_answer_again, thread_sensitive=True)(question.pk)
    await _run_worker_until_no_job_waits()
    assert await models.Answer.objects.acount() == 3
