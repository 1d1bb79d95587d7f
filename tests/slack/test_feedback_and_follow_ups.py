"""👍/👎 votes, and follow-up questions in a thread the bot answered."""

import json
from urllib.parse import urlencode

import pytest
from procrastinate.contrib.django import app as job_app

from data import models
from tests.fakes import slack as fake_slack_module
from tests.slack.conftest import (
    ASKER,
    CHANNEL,
    event_callback,
    mention,
    post_signed,
    run_worker_until_idle,
)

pytestmark = pytest.mark.django_db(transaction=True)

THREAD = "1700000000.000100"


async def _press(action_id: str, answer_id: int, user: str) -> int:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "team_id": fake_slack_module.TEAM_ID},
        "team": {"id": fake_slack_module.TEAM_ID},
        "api_app_id": "A1",
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1.0"},
        "channel": {"id": CHANNEL},
        "trigger_id": "1.2.3",
        "response_url": "https://hooks.example.com/x",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "feedback",
                "value": str(answer_id),
                "type": "button",
                "action_ts": "1.1",
            }
        ],
    }
    response = await post_signed(
        urlencode({"payload": json.dumps(payload)}),
        content_type="application/x-www-form-urlencoded",
    )
    return response.status_code


async def test_feedback_is_stored_per_person_and_pressing_again_changes_the_vote(fake_slack):
    # The plain 👍/👎 buttons of answers posted before Slack's feedback buttons still count.
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()
    answer = await models.Answer.objects.aget()

    assert await _press("feedback_up", answer.pk, ASKER) == 200
    assert await _press("feedback_down", answer.pk, "UCOLLEAGUE") == 200
    assert await _press("feedback_down", answer.pk, ASKER) == 200

    votes = {
        vote.slack_user_id: vote.vote
        async for vote in models.Feedback.objects.filter(answer=answer).order_by("id")
    }
    assert votes == {ASKER: "DOWN", "UCOLLEAGUE": "DOWN"}


async def test_feedback_for_an_unknown_answer_is_acknowledged_and_ignored(fake_slack):
    assert await _press("feedback_up", 999_999, ASKER) == 200

    assert await models.Feedback.objects.acount() == 0


async def test_a_follow_up_in_the_thread_is_answered_with_the_earlier_exchange(
    fake_slack, fake_openai
):
    await post_signed(event_callback(mention("how do I roll back a deploy?"), event_id="Ev1"))
    await run_worker_until_idle()
    first_answer = (await models.Answer.objects.aget()).text
    fake_openai.requests.clear()

    follow_up = {
        "type": "message",
        "channel_type": "channel",
        "user": ASKER,
        "text": "and how long does that take?",
        "ts": "1700000000.000900",
        "thread_ts": THREAD,
        "channel": CHANNEL,
    }
    await post_signed(event_callback(follow_up, event_id="Ev2"))
    await run_worker_until_idle()

    replies = fake_slack.replies(thread_ts=THREAD)
    assert len(replies) == 2
    answer_requests = [
        request
        for request in fake_openai.requests
        if any(tool["function"]["name"] == "search_docs" for tool in request.tools)
    ]
    contents = [str(m.get("content")) for m in answer_requests[0].messages]
    assert any("how do I roll back a deploy?" in c for c in contents)
    assert any(first_answer in c for c in contents)
    assert await models.Question.objects.filter(thread_ts=THREAD).acount() == 2


async def test_answer_again_by_task_name_adds_a_second_answer_in_the_same_thread(fake_slack):
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()
    question = await models.Question.objects.aget()

    await job_app.configure_task(name="answer_again").defer_async(question_id=question.pk)
    await run_worker_until_idle()

    first, second = [a async for a in models.Answer.objects.order_by("created_at", "id")]
    replies = fake_slack.replies(thread_ts=THREAD)
    assert [reply.ts for reply in replies] == [first.slack_message_ts, second.slack_message_ts]
    buttons = next(block for block in replies[1].blocks if block["type"] == "context_actions")
    assert buttons["elements"][0]["positive_button"]["value"] == f"UP:{second.pk}"
    await question.arefresh_from_db()
    assert question.status == models.Question.Status.ANSWERED
