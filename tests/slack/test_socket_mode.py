"""Socket Mode: the same events, over a WebSocket instead of the public Request URL."""

import asyncio

import pytest

from chatbot import socket_mode
from data import models
from tests.slack.conftest import event_callback, mention, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_mention_arriving_over_socket_mode_is_acknowledged_stored_and_answered(
    fake_slack, settings
):
    settings.SLACK_APP_TOKEN = "xapp-test-token"
    settings.SLACK_SIGNING_SECRET = ""  # Socket Mode envelopes are not signed requests
    connection = asyncio.create_task(socket_mode.run())
    try:
        await asyncio.wait_for(fake_slack.socket_connected.wait(), timeout=10)
        await fake_slack.push(
            {
                "envelope_id": "env-1",
                "type": "events_api",
                "accepts_response_payload": False,
                "retry_attempt": 0,
                "payload": event_callback(mention("how do I roll back a deploy?"), event_id="EvS"),
            }
        )
        await asyncio.wait_for(fake_slack.socket_acked.wait(), timeout=10)
    finally:
        connection.cancel()
        await asyncio.gather(connection, return_exceptions=True)

    assert fake_slack.socket_acks[0]["envelope_id"] == "env-1"
    assert await models.SlackEvent.objects.filter(event_id="EvS").aexists()
    await run_worker_until_idle()
    assert len(fake_slack.replies(thread_ts="1700000000.000100")) == 1


async def test_socket_mode_without_a_bot_token_logs_why_and_ends_quietly(
    fake_slack, settings, caplog
):
    settings.SLACK_APP_TOKEN = "xapp-test-token"
    settings.SLACK_BOT_TOKEN = ""

    await asyncio.wait_for(socket_mode.run(), timeout=10)

    assert "SLACK_BOT_TOKEN" in caplog.text
    assert not fake_slack.socket_connected.is_set()


async def test_a_thumbs_down_and_its_form_over_socket_mode_store_the_vote_and_reason(
    fake_slack, settings
):
    from tests.slack.test_feedback_form_and_escalation import _feedback, _press, _sent_form

    settings.SLACK_APP_TOKEN = "xapp-test-token"
    settings.SLACK_SIGNING_SECRET = ""
    connection = asyncio.create_task(socket_mode.run())
    try:
        await asyncio.wait_for(fake_slack.socket_connected.wait(), timeout=10)
        await fake_slack.push(
            {
                "envelope_id": "env-1",
                "type": "events_api",
                "payload": event_callback(mention("how do I roll back a deploy?"), event_id="EvS"),
            }
        )
        await asyncio.wait_for(fake_slack.socket_acked.wait(), timeout=10)
        await run_worker_until_idle()
        answer = await models.Answer.objects.aget()
        for number, payload in enumerate(
            [
                _press(_feedback(f"DOWN:{answer.pk}")),
                _sent_form(answer.pk, reason="NOT_FOUND", comment="I meant staging."),
            ],
            start=2,
        ):
            fake_slack.socket_acked.clear()
            await fake_slack.push(
                {"envelope_id": f"env-{number}", "type": "interactive", "payload": payload}
            )
            await asyncio.wait_for(fake_slack.socket_acked.wait(), timeout=10)
    finally:
        connection.cancel()
        await asyncio.gather(connection, return_exceptions=True)

    assert [ack["envelope_id"] for ack in fake_slack.socket_acks] == ["env-1", "env-2", "env-3"]
    [opened] = fake_slack.views
    assert opened["view"]["private_metadata"] == str(answer.pk)
    vote = await models.Feedback.objects.aget()
    assert (vote.vote, vote.reason, vote.comment) == ("DOWN", "NOT_FOUND", "I meant staging.")
