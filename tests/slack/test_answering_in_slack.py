"""The path of one question: a Slack event in, an answer with sources and buttons out."""

import asyncio
import json

import httpx
import pytest
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob

from chatbot import asgi, tasks
from data import models
from tests.fakes import slack as fake_slack_module
from tests.slack.conftest import (
    ASKER,
    CHANNEL,
    SIGNING_SECRET,
    event_callback,
    mention,
    post_signed,
    run_worker_until_idle,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _buttons(blocks):
    actions = next(block for block in blocks if block["type"] == "context_actions")
    return [element["type"] for element in actions["elements"]]


async def test_a_mention_gets_a_status_then_a_streamed_answer_with_sources_and_buttons(fake_slack):
    response = await post_signed(event_callback(mention("how do I roll back a deploy?")))
    assert response.status_code == 200

    await run_worker_until_idle()

    status = fake_slack.calls_to("assistant.threads.setStatus")
    assert status[0].params["status"] == "Finding a response…"
    assert status[0].params["thread_ts"] == "1700000000.000100"
    [reply] = fake_slack.replies(thread_ts="1700000000.000100")
    assert reply.streamed
    assert reply.stopped
    assert reply.channel == CHANNEL
    assert "make rollback" in reply.text
    sources = next(block for block in reply.blocks if block["block_id"] == "sources")
    assert "https://docs.example.com/howto/deploying.md#rollbacks" in sources["text"]["text"]
    assert _buttons(reply.blocks) == ["feedback_buttons"]
    start = fake_slack.calls_to("chat.startStream")[0]
    assert start.params["recipient_user_id"] == ASKER
    assert status[0].at <= start.at

    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.ANSWERED
    assert question.text == "how do I roll back a deploy?"
    answer = await models.Answer.objects.aget()
    assert answer.slack_message_ts == reply.ts
    assert answer.delivered_at is not None
    assert [c.url async for c in answer.citations.order_by("position")] == [
        "https://docs.example.com/howto/deploying.md#rollbacks"
    ]
    # One model run answers and labels the question (the admin's category and title).
    assert await models.AgentRun.objects.filter(question=question).acount() == 1
    assert question.category == "HOW_TO"
    assert "roll back a deploy" in question.title


async def test_where_streaming_is_refused_the_answer_is_one_block_kit_message(fake_slack):
    fake_slack.refuse["chat.startStream"] = "not_allowed_token_type"

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    [reply] = fake_slack.replies(thread_ts="1700000000.000100")
    assert not reply.streamed
    assert reply.blocks[0]["type"] == "markdown"
    assert "make rollback" in reply.blocks[0]["text"]
    assert _buttons(reply.blocks) == ["feedback_buttons"]
    assert (await models.Question.objects.aget()).status == models.Question.Status.ANSWERED


async def test_a_direct_message_is_answered_in_its_thread(fake_slack):
    event = {
        "type": "message",
        "channel_type": "im",
        "user": ASKER,
        "text": "how do I roll back a deploy?",
        "ts": "1700000000.000200",
        "channel": "D1",
    }
    await post_signed(event_callback(event))
    await run_worker_until_idle()

    [reply] = fake_slack.replies(thread_ts="1700000000.000200")
    assert reply.channel == "D1"
    assert "make rollback" in reply.text


async def test_a_message_in_an_assistant_thread_is_answered_there(fake_slack):
    event = {
        "type": "message",
        "channel_type": "im",
        "user": ASKER,
        "text": "how do I roll back a deploy?",
        "ts": "1700000000.000300",
        "thread_ts": "1700000000.000001",
        "channel": "D1",
    }
    await post_signed(event_callback(event))
    await run_worker_until_idle()

    assert fake_slack.calls_to("assistant.threads.setStatus")[0].params["thread_ts"] == (
        "1700000000.000001"
    )
    [reply] = fake_slack.replies(thread_ts="1700000000.000001")
    assert "make rollback" in reply.text


async def test_where_set_status_is_refused_the_question_gets_an_eyes_reaction(fake_slack):
    fake_slack.refuse["assistant.threads.setStatus"] = "not_allowed"

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    [reaction] = fake_slack.calls_to("reactions.add")
    assert reaction.params["name"] == "eyes"
    assert reaction.params["timestamp"] == "1700000000.000100"
    assert len(fake_slack.replies(thread_ts="1700000000.000100")) == 1


async def test_the_same_event_delivered_three_times_in_a_row_is_answered_once(fake_slack):
    body = event_callback(mention("how do I roll back a deploy?"), event_id="EvSame")
    for retry in range(3):
        response = await post_signed(body, headers={"X-Slack-Retry-Num": str(retry)})
        assert response.status_code == 200

    await run_worker_until_idle()

    assert len(fake_slack.replies(thread_ts="1700000000.000100")) == 1
    assert await models.SlackEvent.objects.acount() == 1
    assert await models.Answer.objects.acount() == 1


async def test_the_same_event_delivered_three_times_at_once_is_answered_once(fake_slack):
    raw = json.dumps(event_callback(mention("how do I roll back a deploy?"), event_id="EvSame"))
    headers = {
        **fake_slack_module.signed_headers(body=raw, secret=SIGNING_SECRET),
        "Content-Type": "application/json",
    }
    # At once, through the real ASGI application: the requests' database work is spread over
    # the ack threads (chatbot/slack_http.py), so the inserts really race.
    transport = httpx.ASGITransport(app=asgi.application)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        responses = await asyncio.gather(
            *(client.post("/slack/events", content=raw, headers=headers) for _ in range(3))
        )

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert await models.SlackEvent.objects.acount() == 1
    assert await ProcrastinateJob.objects.filter(task_name="answer_slack_event").acount() == 1
    await run_worker_until_idle()
    assert len(fake_slack.replies(thread_ts="1700000000.000100")) == 1
    assert await models.Answer.objects.acount() == 1


async def test_a_question_the_docs_do_not_cover_is_answered_plainly_without_sources(
    fake_slack, settings
):
    settings.CHATBOT_NOT_COVERED_CONTACT = "the IT help desk in #it-help"
    await post_signed(event_callback(mention("what is the wifi password on mars?")))
    await run_worker_until_idle()

    [reply] = fake_slack.replies(thread_ts="1700000000.000100")
    assert "couldn't find this in the documentation" in reply.text
    # What was searched, and whom to ask.
    assert "I searched the documentation" in reply.text
    assert reply.text.rstrip().endswith("ask the IT help desk in #it-help.")
    assert not any(block.get("block_id") == "sources" for block in reply.blocks)
    answer = await models.Answer.objects.aget()
    assert answer.covered is False
    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.NOT_COVERED
    assert question.answered_at is not None


async def test_a_streaming_model_s_answer_appears_in_slack_while_it_is_being_written(
    fake_slack, fake_openai
):
    fake_openai.stream_pause = 0.1

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    [reply] = fake_slack.replies(thread_ts="1700000000.000100")
    assert reply.text.startswith("From the docs: To roll back a deploy, run make rollback")
    assert reply.stopped
    first_piece = "".join(
        chunk["text"]
        for chunk in fake_slack.calls_to("chat.startStream")[0].params["chunks"]
        if chunk["type"] == "markdown_text"
    )
    assert first_piece
    assert len(first_piece) < len(reply.text)  # shown before the model had finished
    assert len(fake_slack.calls_to("chat.appendStream")) >= 1
    assert any(block.get("block_id") == "feedback" for block in reply.blocks)
    answer = await models.Answer.objects.aget()
    assert answer.text == reply.text
    assert answer.slack_message_ts == reply.ts


PANE_OPENED = {
    "type": "assistant_thread_started",
    "assistant_thread": {
        "user_id": ASKER,
        "context": {"channel_id": "C9", "team_id": "T1"},
        "channel_id": "D1",
        "thread_ts": "1700000000.000700",
    },
    "event_ts": "1700000000.000701",
}


async def test_opening_the_assistant_pane_greets_the_person_once(fake_slack):
    body = event_callback(PANE_OPENED, event_id="EvPane")

    for _ in range(2):
        assert (await post_signed(body)).status_code == 200
    await run_worker_until_idle()
    # procrastinate retrying the job (say it failed just after posting) does not greet again
    stored = await models.SlackEvent.objects.aget()
    await tasks.answer_event(slack_event_id=stored.pk)

    [greeting] = fake_slack.replies(thread_ts="1700000000.000700")
    assert greeting.channel == "D1"
    assert greeting.text.startswith("Hi! Ask me anything")
    assert await models.Question.objects.acount() == 0


def _django_connections_in_use() -> int:
    stats = connection.pool.get_stats()  # type: ignore[attr-defined]
    return stats["pool_size"] - stats["pool_available"]


async def test_the_greeting_job_holds_no_database_connection_while_slack_answers(fake_slack):
    fake_slack.hold["chat.postMessage"] = asyncio.Event()
    await post_signed(event_callback(PANE_OPENED, event_id="EvPane"))

    worker = asyncio.create_task(run_worker_until_idle())
    reached = fake_slack.reached.setdefault("chat.postMessage", asyncio.Event())
    await asyncio.wait_for(reached.wait(), timeout=30)
    await asyncio.sleep(0.2)
    while_posting = await asyncio.to_thread(_django_connections_in_use)
    fake_slack.hold.pop("chat.postMessage").set()
    await worker

    assert while_posting == await asyncio.to_thread(_django_connections_in_use)
    assert len(fake_slack.replies(thread_ts="1700000000.000700")) == 1


MENTIONS = ("<!channel>", "<!here>", "<!everyone>", "<@U0BOSS", "<!subteam^", "<#C", "@everyone")


async def test_mentions_in_a_streamed_model_answer_ping_nobody(fake_slack, fake_openai):
    """A model quoting Slack syntax (from a page about incidents, say) must not page anyone:
    not in the streamed pieces, the finished message, or its notification text."""
    fake_openai.answer_text = (
        "For an incident, write <!channel> (or <!here>, never <!everyone>), tell "
        "<@U0BOSS|the boss>, page <!subteam^S0ONCALL|@oncall> and type @everyone in "
        "<#C0INCIDENT|incidents>."
    )
    fake_openai.stream_piece = 5  # so mentions arrive split across pieces

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    [reply] = fake_slack.replies(thread_ts="1700000000.000100")
    assert reply.streamed
    assert not fake_slack.calls_to("chat.update")  # streamed to the end, never redone
    joiner = "\u2060"
    assert f"write @{joiner}channel (or @{joiner}here, never @{joiner}everyone)" in reply.text
    assert f"tell @{joiner}the boss, page @{joiner}oncall" in reply.text
    assert f"type @{joiner}everyone in #{joiner}incidents." in reply.text
    sent = json.dumps([call.params for call in fake_slack.calls if call.method.startswith("chat.")])
    assert not [syntax for syntax in MENTIONS if syntax in sent]
