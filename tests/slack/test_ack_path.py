"""The ack path: no Slack Web API call while Slack waits, and a busy pool is a 503, not a 500."""

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import httpx
import psycopg_pool
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import OperationalError, connection, transaction
from django.test import RequestFactory
from procrastinate.contrib.django.models import ProcrastinateJob

from chatbot import database_busy, slack_app, slack_blocks
from data import models
from tests.fakes import slack as fake_slack_module
from tests.slack.conftest import ASKER, event_callback, mention, post_signed

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def _closed_port() -> Iterator[int]:
    """A port bound to nothing that listens: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def _job_for(event: models.SlackEvent) -> bool:
    return await ProcrastinateJob.objects.filter(
        task_name="answer_slack_event", args__slack_event_id=event.pk
    ).aexists()


async def test_a_mention_is_acknowledged_while_slacks_web_api_cannot_be_reached(
    fake_slack, settings
):
    with _closed_port() as port:
        settings.SLACK_API_URL = f"http://127.0.0.1:{port}/api/"
        slack_app._build.cache_clear()

        response = await post_signed(event_callback(mention("how do I roll back?"), event_id="Ev1"))

    assert response.status_code == 200
    event = await models.SlackEvent.objects.aget(event_id="Ev1")
    assert await _job_for(event)


def _press_button() -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": ASKER},
        "team": {"id": fake_slack_module.TEAM_ID},
        "actions": [{"action_id": "something_else", "value": "x", "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)})


async def test_no_request_reaches_slacks_web_api_while_slack_waits_for_the_ack(fake_slack):
    thread_reply = {
        "type": "message",
        "channel_type": "channel",
        "user": ASKER,
        "text": "and another thing",
        "ts": "1700000000.000200",
        "thread_ts": "1700000000.000100",
        "channel": "C1",
    }
    direct_message = {**thread_reply, "channel_type": "im", "channel": "D1"}
    direct_message.pop("thread_ts")

    statuses = [
        (await post_signed(event_callback(mention("hi"), event_id="Ev1"))).status_code,
        (await post_signed(event_callback(thread_reply, event_id="Ev2"))).status_code,
        (await post_signed(event_callback(direct_message, event_id="Ev3"))).status_code,
        (
            await post_signed(_press_button(), content_type="application/x-www-form-urlencoded")
        ).status_code,
    ]

    assert statuses == [200, 200, 200, 200]
    assert fake_slack.calls == []  # no auth.test, nothing: jobs talk to Slack, acks do not


@contextmanager
def _pool(**options: float) -> Iterator[None]:
    """Give the pool other options (it is made again, empty, on the next connection)."""
    pool = connection.settings_dict["OPTIONS"]["pool"]
    saved = dict(pool)
    connection.close_pool()  # type: ignore[attr-defined]
    pool.update(options)
    try:
        yield
    finally:
        connection.close_pool()  # type: ignore[attr-defined]
        pool.clear()
        pool.update(saved)


@contextmanager
def _every_pooled_connection_held(size: int) -> Iterator[None]:
    """``size`` threads, each in a transaction on a pooled connection, until the block ends."""
    # A holder that cannot get its connection breaks the barrier: a failure, never a hang.
    ready = threading.Barrier(size + 1, timeout=30)
    done = threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                ready.wait()
                done.wait(timeout=60)
        except BaseException:
            ready.abort()
            raise

    threads = [threading.Thread(target=hold) for _ in range(size)]
    for thread in threads:
        thread.start()
    ready.wait()
    try:
        yield
    finally:
        done.set()
        for thread in threads:
            thread.join()


def _press_feedback_button() -> str:
    """A 👍: storing the vote needs the database."""
    payload = {
        "type": "block_actions",
        "user": {"id": ASKER},
        "team": {"id": fake_slack_module.TEAM_ID},
        "actions": [{"action_id": slack_blocks.FEEDBACK_UP, "value": "1", "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)})


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (json.dumps(event_callback(mention("hi"), event_id="EvBusy")), "application/json"),
        (_press_feedback_button(), "application/x-www-form-urlencoded"),
    ],
    ids=["mention", "feedback-button"],
)
async def test_a_burst_beyond_the_pool_is_asked_to_retry_later_never_a_500(
    fake_slack, body, content_type
):
    def post_while_every_connection_is_taken() -> httpx.Response:
        with _pool(max_size=2, min_size=1, timeout=0.2), _every_pooled_connection_held(2):
            return async_to_sync(post_signed)(body, content_type=content_type)

    response = await sync_to_async(post_while_every_connection_is_taken, thread_sensitive=False)()

    assert response.status_code == 503
    assert response.headers["Retry-After"] == database_busy.RETRY_AFTER_SECONDS
    assert await models.SlackEvent.objects.acount() == 0
    assert await models.Feedback.objects.acount() == 0


def test_any_view_that_finds_the_pool_exhausted_answers_503_with_retry_after():
    try:
        try:
            raise psycopg_pool.PoolTimeout("couldn't get a connection after 0.20 sec")
        except psycopg_pool.PoolTimeout as timeout:
            raise OperationalError(str(timeout)) from timeout
    except OperationalError as error:
        wrapped = error
    middleware = database_busy.DatabaseBusyMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]

    response = middleware.process_exception(RequestFactory().get("/admin/"), wrapped)
    unrelated = middleware.process_exception(RequestFactory().get("/"), OperationalError("x"))

    assert response is not None
    assert response.status_code == 503
    assert response["Retry-After"] == database_busy.RETRY_AFTER_SECONDS
    assert unrelated is None
