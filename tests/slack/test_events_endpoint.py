"""What the events endpoint answers, before any job runs."""

import asyncio
import json
import time
from urllib.parse import urlencode

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from procrastinate.contrib.django.utils import connector_params

from data import models
from tests.fakes import slack as fake_slack_module
from tests.slack.conftest import (
    ASKER,
    CHANNEL,
    event_callback,
    mention,
    post_events,
    post_signed,
    run_worker_until_idle,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def _jobs() -> int:
    from procrastinate.contrib.django.models import ProcrastinateJob

    return await ProcrastinateJob.objects.filter(task_name="answer_slack_event").acount()


async def test_without_a_signing_secret_the_endpoint_says_slack_is_not_configured(settings):
    settings.SLACK_SIGNING_SECRET = ""

    response = await post_events("{}", headers={"Content-Type": "application/json"})

    assert response.status_code == 503
    assert "SLACK_SIGNING_SECRET" in response.json()["error"]


async def test_a_forged_signature_is_rejected(fake_slack):
    response = await post_signed(event_callback(mention("hi")), secret="not-the-secret")

    assert response.status_code == 401
    assert await models.SlackEvent.objects.acount() == 0


async def test_a_timestamp_older_than_five_minutes_is_rejected(fake_slack):
    response = await post_signed(event_callback(mention("hi")), timestamp=int(time.time()) - 301)

    assert response.status_code == 401
    assert await models.SlackEvent.objects.acount() == 0


async def test_a_body_larger_than_the_upload_limit_is_refused(fake_slack, settings):
    settings.SLACK_MAX_BODY_BYTES = 1_000
    body = event_callback(mention("x" * 2_000))

    response = await post_signed(body)

    assert response.status_code == 413
    assert await models.SlackEvent.objects.acount() == 0


async def test_a_malformed_body_is_a_bad_request(fake_slack):
    response = await post_signed('{"type": "event_callback", "event": ')

    assert response.status_code == 400


async def test_url_verification_echoes_the_challenge(fake_slack):
    response = await post_signed({"type": "url_verification", "challenge": "c-123", "token": "t"})

    assert response.status_code == 200
    assert response.json() == {"challenge": "c-123"}


async def test_an_unknown_event_type_is_acknowledged_and_nothing_else(fake_slack):
    event = {"type": "reaction_added", "user": ASKER, "reaction": "tada", "event_ts": "1.0"}

    response = await post_signed(event_callback(event))

    assert response.status_code == 200
    assert await models.SlackEvent.objects.acount() == 0
    assert await _jobs() == 0


@pytest.mark.parametrize(
    "extra",
    [
        {"bot_id": "BOTHER", "user": "UOTHERBOT"},
        {"bot_id": fake_slack_module.BOT_ID, "user": fake_slack_module.BOT_USER_ID},
        {"subtype": "message_changed"},
        {"subtype": "channel_join"},
    ],
    ids=["other-bot", "own-message", "edit", "join"],
)
async def test_bot_messages_and_subtypes_get_no_reply(fake_slack, extra):
    event = {
        "type": "message",
        "channel_type": "im",
        "user": ASKER,
        "text": "how do I roll back a deploy?",
        "ts": "1700000000.000400",
        "channel": "D1",
        **extra,
    }

    response = await post_signed(event_callback(event))
    await run_worker_until_idle()

    assert response.status_code == 200
    assert await models.SlackEvent.objects.acount() == 0
    assert fake_slack.replies(thread_ts="1700000000.000400") == []


async def test_a_direct_message_with_a_screenshot_is_answered(fake_slack):
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel_type": "im",
        "user": ASKER,
        "text": "how do I roll back a deploy? this is what I see",
        "files": [{"id": "F1", "name": "screenshot.png", "mimetype": "image/png"}],
        "ts": "1700000000.000450",
        "channel": "D1",
    }

    await post_signed(event_callback(event))
    await run_worker_until_idle()

    [reply] = fake_slack.replies(thread_ts="1700000000.000450")
    assert "make rollback" in reply.text


async def test_a_follow_up_also_sent_to_the_channel_is_answered(fake_slack):
    await post_signed(event_callback(mention("how do I roll back a deploy?"), event_id="Ev1"))
    await run_worker_until_idle()
    follow_up = {
        "type": "message",
        "subtype": "thread_broadcast",
        "channel_type": "channel",
        "user": ASKER,
        "text": "and who approves travel expenses?",
        "ts": "1700000000.000460",
        "thread_ts": "1700000000.000100",
        "channel": CHANNEL,
    }

    await post_signed(event_callback(follow_up, event_id="Ev2"))
    await run_worker_until_idle()

    replies = fake_slack.replies(thread_ts="1700000000.000100")
    assert len(replies) == 2
    assert "manager" in replies[1].text


def _reply_in_thread(*, user: str, text: str, ts: str) -> dict:
    return {
        "type": "message",
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": "1700000000.000100",
        "channel": CHANNEL,
    }


async def test_other_peoples_replies_in_a_thread_the_bot_answered_are_left_alone(fake_slack):
    await post_signed(event_callback(mention("how do I roll back a deploy?"), event_id="Ev1"))
    await run_worker_until_idle()
    someone = _reply_in_thread(user="USOMEONE", text="thanks, that worked", ts="1700000000.000500")
    asker = _reply_in_thread(
        user=ASKER, text="and who approves travel expenses?", ts="1700000000.000600"
    )

    assert (await post_signed(event_callback(someone, event_id="Ev2"))).status_code == 200
    assert (await post_signed(event_callback(asker, event_id="Ev3"))).status_code == 200
    await run_worker_until_idle()

    assert [e.event_id async for e in models.SlackEvent.objects.order_by("id")] == ["Ev1", "Ev3"]
    replies = fake_slack.replies(thread_ts="1700000000.000100")
    assert len(replies) == 2
    assert "manager" in replies[1].text
    assert not await models.Question.objects.filter(asker_id="USOMEONE").aexists()


def _allow_connections(*, allowed: bool) -> None:
    """Make the test database refuse (or accept again) new connections, like an outage."""
    params = connector_params()
    name = params.pop("dbname")
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')


def _close_pool(*, timeout: float) -> None:
    """Close the pool so the next request needs a new connection, waiting at most ``timeout``."""
    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]
    connection.settings_dict["OPTIONS"]["pool"]["timeout"] = timeout


async def test_when_the_database_is_unreachable_slack_gets_a_5xx_to_retry(fake_slack):
    await asyncio.to_thread(_allow_connections, allowed=False)
    timeout = connection.settings_dict["OPTIONS"]["pool"]["timeout"]
    await sync_to_async(_close_pool, thread_sensitive=True)(timeout=1.0)
    try:
        response = await post_signed(event_callback(mention("hi"), event_id="EvDbDown"))
    finally:
        await asyncio.to_thread(_allow_connections, allowed=True)
        await sync_to_async(_close_pool, thread_sensitive=True)(timeout=timeout)

    # No connection within the pool's timeout: the same answer as a pool that is all in use.
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert await models.SlackEvent.objects.acount() == 0


async def test_a_button_the_bot_does_not_know_is_acknowledged_on_the_same_request_url(fake_slack):
    payload = {
        "type": "block_actions",
        "user": {"id": ASKER},
        "team": {"id": fake_slack_module.TEAM_ID},
        "actions": [{"action_id": "something_else", "value": "x", "type": "button"}],
    }
    body = urlencode({"payload": json.dumps(payload)})

    response = await post_signed(body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200
    assert await models.Feedback.objects.acount() == 0
