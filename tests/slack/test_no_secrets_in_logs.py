"""Tokens, the signing secret and API keys never reach the logs, whatever is logged at DEBUG."""

import logging

import pytest

from application import model_runs
from chatbot import slack_app
from tests.slack.conftest import event_callback, mention, post_signed, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-SECRET-bot-token-4242",
    "SLACK_APP_TOKEN": "xapp-SECRET-app-token-4242",
    "SLACK_SIGNING_SECRET": "SECRET-signing-secret-4242",
}
OPENAI_API_KEY = "sk-SECRET-openai-key-4242"
ANTHROPIC_API_KEY = "sk-ant-SECRET-anthropic-key-4242"


async def test_a_whole_question_logged_at_debug_shows_no_secret(
    fake_slack, fake_openai, settings, monkeypatch, caplog
):
    for name, value in SECRETS.items():
        setattr(settings, name, value)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_API_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_API_KEY)
    slack_app._build.cache_clear()
    model_runs.model_named.cache_clear()
    caplog.set_level(logging.DEBUG)
    for name in ("slack_sdk", "slack_bolt", "openai", "httpx", "httpcore", "procrastinate"):
        caplog.set_level(logging.DEBUG, logger=name)
    fake_openai.failures = 1  # a retried model error is logged too
    fake_slack.rate_limited["chat.startStream"] = 1  # and a retried Slack call

    secret = SECRETS["SLACK_SIGNING_SECRET"]
    answered = await post_signed(event_callback(mention("how do I roll back?")), secret=secret)
    forged = await post_signed(event_callback(mention("hi"), event_id="Ev2"), secret="wrong")
    await run_worker_until_idle()

    assert (answered.status_code, forged.status_code) == (200, 401)
    assert fake_slack.replies(thread_ts="1700000000.000100")
    assert fake_slack.calls_to("chat.startStream")[0].params  # Slack was called with the token
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert len(caplog.records) > 50  # DEBUG logging really was on
    for value in [*SECRETS.values(), OPENAI_API_KEY, ANTHROPIC_API_KEY]:
        assert value not in logged
        assert value[-12:] not in logged
