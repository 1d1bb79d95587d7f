"""The App Home tab: what the bot knows, how to ask, your latest questions."""

import json

import pytest

from data import models
from tests.slack.conftest import (
    ASKER,
    event_callback,
    mention,
    post_signed,
    run_worker_until_idle,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _home_opened(*, tab: str = "home", event_id: str = "EvHome") -> dict:
    return event_callback(
        {"type": "app_home_opened", "user": ASKER, "channel": "D1", "tab": tab, "event_ts": "1.2"},
        event_id=event_id,
    )


def _texts(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


async def test_opening_the_home_tab_shows_the_sources_and_how_to_ask(fake_slack, settings):
    settings.CHATBOT_PUBLIC_URL = ""
    assert (await post_signed(_home_opened())).status_code == 200
    await run_worker_until_idle()

    [published] = fake_slack.home_views
    assert published["user_id"] == ASKER
    assert published["view"]["type"] == "home"
    shown = _texts(published["view"])
    assert "*handbook*: 2 pages, last synced" in shown
    assert "/ask <question>" in shown
    assert "You haven't asked anything yet." in shown
    assert "admin" not in shown  # no public address configured: no link


async def test_the_home_tab_lists_your_latest_questions_with_their_outcome(fake_slack, settings):
    settings.CHATBOT_PUBLIC_URL = "https://bot.example.com"
    await post_signed(event_callback(mention("how do I roll back a deploy?"), event_id="Ev1"))
    await run_worker_until_idle()

    await post_signed(_home_opened())
    await run_worker_until_idle()

    [published] = fake_slack.home_views
    shown = _texts(published["view"])
    assert "how do I roll back a deploy?" in shown
    assert "_Answered_, in <#C1>" in shown
    assert "<https://bot.example.com/admin/|admin>" in shown


async def test_the_messages_tab_publishes_nothing(fake_slack):
    assert (await post_signed(_home_opened(tab="messages"))).status_code == 200
    await run_worker_until_idle()

    assert fake_slack.home_views == []
    assert await models.SlackEvent.objects.acount() == 0
