"""``/ask``: a private answer, through the command's response_url, and "Share in channel"."""

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from data import models
from tests.fakes import slack as fake_slack_module
from tests.slack.conftest import ASKER, CHANNEL, post_signed, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake_slack(fake_slack, settings):
    settings.SLACK_RESPONSE_URL_PREFIX = fake_slack.response_url(key="")
    return fake_slack


def _command(fake_slack, text: str, *, response_url: str | None = None, **fields: str) -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": fake_slack_module.TEAM_ID,
            "channel_id": CHANNEL,
            "channel_name": "deploys",
            "user_id": ASKER,
            "command": "/ask",
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url or fake_slack.response_url(key="command"),
            "trigger_id": "1234.5678.command",
            **fields,
        }
    )


async def _post(body: str) -> Any:
    return await post_signed(body, content_type="application/x-www-form-urlencoded")


def _press_share(fake_slack, answer_id: int, *, user: str = ASKER) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": fake_slack_module.TEAM_ID},
        "container": {"type": "message", "is_ephemeral": True, "channel_id": CHANNEL},
        "response_url": fake_slack.response_url(key="press"),
        "actions": [{"action_id": "share_answer", "type": "button", "value": str(answer_id)}],
    }
    return urlencode({"payload": json.dumps(payload)})


async def _asked(fake_slack) -> models.Answer:
    response = await _post(_command(fake_slack, "how do I roll back a deploy?"))
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert response.json()["text"].startswith("Looking that up")
    await run_worker_until_idle()
    return await models.Answer.objects.select_related("question").aget()


async def test_the_answer_goes_only_to_the_asker_with_a_share_button(fake_slack):
    answer = await _asked(fake_slack)

    [private] = fake_slack.responses
    assert (private["key"], private["response_type"]) == ("command", "ephemeral")
    assert "make rollback" in private["blocks"][0]["text"]
    [share] = [block for block in private["blocks"] if block.get("block_id") == "share"]
    assert share["elements"][0]["action_id"] == "share_answer"
    assert share["elements"][0]["value"] == str(answer.pk)
    # Nothing in the channel.
    assert fake_slack.messages == {}
    assert answer.question.private is True
    assert answer.question.status == models.Question.Status.ANSWERED
    assert answer.delivered_at is not None


async def test_sharing_posts_the_answer_in_the_channel_attributed_to_the_asker_once(fake_slack):
    answer = await _asked(fake_slack)
    fake_slack.responses.clear()

    assert (await _post(_press_share(fake_slack, answer.pk))).status_code == 200
    assert (await _post(_press_share(fake_slack, answer.pk))).status_code == 200

    shared, deleted, again = fake_slack.responses
    assert shared["response_type"] == "in_channel"
    assert shared["blocks"][0]["text"]["text"].startswith(f"<@{ASKER}> asked:")
    assert "make rollback" in shared["blocks"][1]["text"]
    assert deleted["delete_original"] is True
    assert (again["response_type"], again["text"]) == (
        "ephemeral",
        "This answer is shared already, or it is someone else's to share.",
    )
    await answer.arefresh_from_db()
    assert answer.shared_at is not None


async def test_only_the_asker_can_share_it(fake_slack):
    answer = await _asked(fake_slack)
    fake_slack.responses.clear()

    await _post(_press_share(fake_slack, answer.pk, user="UCOLLEAGUE"))

    [refused] = fake_slack.responses
    assert refused["response_type"] == "ephemeral"
    await answer.arefresh_from_db()
    assert answer.shared_at is None


async def test_an_empty_ask_explains_itself_and_stores_nothing(fake_slack):
    response = await _post(_command(fake_slack, "   "))

    assert response.status_code == 200
    assert response.json()["text"].startswith("Type your question after /ask")
    assert await models.SlackEvent.objects.acount() == 0


async def test_a_response_url_off_slack_is_refused(fake_slack):
    body = _command(fake_slack, "how?", response_url="https://attacker.example/collect")

    assert (await _post(body)).status_code == 400
    assert await models.SlackEvent.objects.acount() == 0
