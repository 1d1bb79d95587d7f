"""Slack's assistant pane: suggested prompts when it opens, a title from the first question,
and a status that says what the bot is doing."""

import json
import time

import pytest

from data import models
from tests.slack.conftest import (
    ASKER,
    event_callback,
    mention,
    post_signed,
    run_worker_until_idle,
)
from tests.slack.test_answering_in_slack import PANE_OPENED

pytestmark = pytest.mark.django_db(transaction=True)

PANE_THREAD = "1700000000.000700"  # PANE_OPENED's thread


def _in_the_pane(text: str, *, ts: str) -> dict:
    """A message typed in the pane's thread (the app's DM)."""
    return {
        "type": "message",
        "channel_type": "im",
        "channel": "D1",
        "user": ASKER,
        "text": text,
        "ts": ts,
        "thread_ts": PANE_THREAD,
        "team": "T1",
    }


async def test_opening_the_pane_suggests_questions_about_the_documented_topics(fake_slack):
    await post_signed(event_callback(PANE_OPENED, event_id="EvPane"))
    await run_worker_until_idle()

    [call] = fake_slack.calls_to("assistant.threads.setSuggestedPrompts")
    assert (call.params["channel_id"], call.params["thread_ts"]) == ("D1", PANE_THREAD)
    assert call.params["title"] == "Try asking"
    prompts = call.params["prompts"]
    assert sorted(prompt["title"] for prompt in prompts) == ["Deploying", "Expenses"]
    assert {prompt["message"] for prompt in prompts} == {
        "What does our documentation say about Deploying?",
        "What does our documentation say about Expenses?",
    }


async def test_the_topics_answers_cite_most_come_first(fake_slack):
    await post_signed(event_callback(mention("what is the travel expenses policy?")))
    await run_worker_until_idle()
    assert await models.Citation.objects.filter(title="Expenses").aexists()

    await post_signed(event_callback(PANE_OPENED, event_id="EvPane"))
    await run_worker_until_idle()

    [call] = fake_slack.calls_to("assistant.threads.setSuggestedPrompts")
    assert [prompt["title"] for prompt in call.params["prompts"]] == ["Expenses", "Deploying"]


async def test_configured_prompts_are_offered_as_written(fake_slack, settings):
    settings.CHATBOT_SUGGESTED_PROMPTS = ["How do I book travel?", "Who approves VPN access?"]

    await post_signed(event_callback(PANE_OPENED, event_id="EvPane"))
    await run_worker_until_idle()

    [call] = fake_slack.calls_to("assistant.threads.setSuggestedPrompts")
    assert call.params["prompts"] == [
        {"title": "How do I book travel?", "message": "How do I book travel?"},
        {"title": "Who approves VPN access?", "message": "Who approves VPN access?"},
    ]


async def test_prompts_that_slack_refuses_leave_the_greeting(fake_slack):
    fake_slack.refuse["assistant.threads.setSuggestedPrompts"] = "invalid_arguments"

    await post_signed(event_callback(PANE_OPENED, event_id="EvPane"))
    await run_worker_until_idle()

    [greeting] = fake_slack.replies(thread_ts=PANE_THREAD)
    assert greeting.text.startswith("Hi! Ask me anything")
    assert (await models.SlackEvent.objects.aget()).processed_at is not None


async def test_the_first_question_names_the_thread_and_the_status_says_what_happens(fake_slack):
    first = "How do I roll back a deploy\nwhen the release branch is broken?"
    await post_signed(event_callback(_in_the_pane(first, ts="1700000000.000800"), event_id="Ev1"))
    await run_worker_until_idle()
    follow_up = _in_the_pane("and how long does it take?", ts="1700000000.000900")
    await post_signed(event_callback(follow_up, event_id="Ev2"))
    await run_worker_until_idle()

    [title] = fake_slack.calls_to("assistant.threads.setTitle")
    assert title.params == {
        "channel_id": "D1",
        "thread_ts": PANE_THREAD,
        "title": "How do I roll back a deploy",
    }
    status = fake_slack.calls_to("assistant.threads.setStatus")[0].params
    assert status["status"] == "Finding a response…"
    assert status["loading_messages"] == [
        "Searching the documentation…",
        "Reading the closest sections…",
        "Writing an answer…",
    ]


async def test_a_mention_in_a_channel_names_no_thread(fake_slack):
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    assert fake_slack.calls_to("assistant.threads.setTitle") == []


def test_a_long_first_line_is_cut_at_a_word_for_the_title():
    from application.answering import live

    title = live.thread_title("word " * 40)

    assert len(title) <= live.TITLE_LIMIT
    assert title.endswith("word…")


def _context_changed(channel_id: str) -> dict:
    return {
        "type": "assistant_thread_context_changed",
        "assistant_thread": {
            "user_id": ASKER,
            "context": {"channel_id": channel_id, "team_id": "T1"},
            "channel_id": "D1",
            "thread_ts": PANE_THREAD,
        },
        "event_ts": "1700000000.000750",
    }


async def test_the_channel_the_asker_is_viewing_informs_the_model(fake_slack, fake_openai):
    await post_signed(event_callback(PANE_OPENED, event_id="EvPane"))  # viewing C9
    await post_signed(event_callback(_context_changed("C1"), event_id="EvMoved"))  # then C1
    await run_worker_until_idle()
    fake_openai.requests.clear()

    question = _in_the_pane("how do I roll back?", ts="1700000000.000800")
    await post_signed(event_callback(question, event_id="EvQ"))
    await run_worker_until_idle()

    first_request = json.dumps(fake_openai.requests[0].messages)
    assert "The asker is viewing the Slack channel #deploys" in first_request
    assert await models.Question.objects.acount() == 1  # moving is not a question


async def test_a_mention_in_a_channel_carries_no_viewing_context(fake_slack, fake_openai):
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    assert "The asker is viewing" not in json.dumps(fake_openai.requests[0].messages)


async def test_the_time_to_the_first_status_is_recorded_for_the_dashboard(fake_slack):
    now = f"{time.time():.6f}"
    await post_signed(event_callback(mention("how do I roll back a deploy?", ts=now)))
    await run_worker_until_idle()

    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.ANSWERED
    assert question.first_status_ms is not None
    assert question.latency_ms is not None
    assert 0 <= question.first_status_ms <= question.latency_ms


async def test_a_status_slack_refused_in_both_forms_records_no_time_to_the_first_status(
    fake_slack,
):
    fake_slack.refuse["assistant.threads.setStatus"] = "missing_scope"
    fake_slack.refuse["reactions.add"] = "missing_scope"  # the fallback status
    await post_signed(
        event_callback(mention("how do I roll back a deploy?", ts=f"{time.time():.6f}"))
    )
    await run_worker_until_idle()

    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.ANSWERED
    assert question.first_status_ms is None
