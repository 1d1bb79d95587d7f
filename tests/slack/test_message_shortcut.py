""" "Ask about this message": a message shortcut whose message becomes the question, answered
in that message's thread."""

import json
from urllib.parse import urlencode

import pytest

from data import models
from tests.fakes import slack as fake_slack_module
from tests.slack.conftest import CHANNEL, post_signed, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGE_TS = "1700000000.000300"


def _shortcut(*, trigger_id: str = "111.222.333", **message: str) -> str:
    payload = {
        "type": "message_action",
        "callback_id": "ask_about_message",
        "trigger_id": trigger_id,
        "action_ts": "1700000050.000001",
        "team": {"id": fake_slack_module.TEAM_ID},
        "user": {"id": "UASKER2", "team_id": fake_slack_module.TEAM_ID},
        "channel": {"id": CHANNEL, "name": "deploys"},
        "message": {
            "type": "message",
            "user": "UOTHER",
            "text": "Does anyone know how to roll back a deploy?",
            "ts": MESSAGE_TS,
            **message,
        },
        "response_url": "https://hooks.example.com/x",
    }
    return urlencode({"payload": json.dumps(payload)})


async def _press(body: str) -> int:
    response = await post_signed(body, content_type="application/x-www-form-urlencoded")
    return response.status_code


async def test_the_message_is_answered_in_its_thread_for_whoever_asked(fake_slack):
    assert await _press(_shortcut()) == 200
    await run_worker_until_idle()

    [reply] = fake_slack.replies(thread_ts=MESSAGE_TS)
    assert (reply.channel, reply.stopped) == (CHANNEL, True)
    assert "make rollback" in reply.text
    question = await models.Question.objects.aget()
    assert question.text == "Does anyone know how to roll back a deploy?"
    assert (question.asker_id, question.thread_ts) == ("UASKER2", MESSAGE_TS)
    assert question.status == models.Question.Status.ANSWERED


async def test_a_message_inside_a_thread_is_answered_in_that_thread(fake_slack):
    root = "1700000000.000100"

    assert await _press(_shortcut(thread_ts=root)) == 200
    await run_worker_until_idle()

    assert len(fake_slack.replies(thread_ts=root)) == 1
    assert (await models.Question.objects.aget()).thread_ts == root


async def test_each_press_is_one_question_even_if_the_request_comes_twice(fake_slack):
    body = _shortcut()

    assert await _press(body) == 200
    assert await _press(body) == 200  # the same press delivered twice
    assert await _press(_shortcut(trigger_id="444.555.666")) == 200  # pressed again
    await run_worker_until_idle()

    assert await models.SlackEvent.objects.acount() == 2
    assert len(fake_slack.replies(thread_ts=MESSAGE_TS)) == 2


async def test_a_shortcut_without_its_message_is_refused_with_a_400(fake_slack):
    payload = {
        "type": "message_action",
        "callback_id": "ask_about_message",
        "trigger_id": "1.2.3",
        "user": {"id": "U1"},
        "channel": {"id": CHANNEL},
    }

    assert await _press(urlencode({"payload": json.dumps(payload)})) == 400
    assert await models.SlackEvent.objects.acount() == 0
