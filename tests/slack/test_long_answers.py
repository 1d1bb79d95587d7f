"""Answers too long for one Slack message: split, never cut short, never posted twice."""

import pytest

from chatbot import messengers, tasks
from data import models
from tests.slack.conftest import event_callback, mention, post_signed, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)

THREAD = "1700000000.000100"
PARAGRAPHS = [f"Paragraph {n}: " + "word " * 400 for n in range(15)]  # ~30,000 characters
LONG_ANSWER = "\n\n".join(PARAGRAPHS)


def _has_buttons(reply) -> bool:
    return any(block.get("block_id") == "feedback" for block in reply.blocks)


def _assert_whole_answer_once(replies) -> None:
    text = "\n\n".join(reply.text for reply in replies)
    assert [text.count(f"Paragraph {n}:") for n in range(15)] == [1] * 15
    assert all(len(reply.text) <= messengers.MARKDOWN_BLOCK_LIMIT for reply in replies)
    assert [_has_buttons(reply) for reply in replies] == [False] * (len(replies) - 1) + [True]


@pytest.fixture
def long_answers(fake_openai):
    fake_openai.answer_text = LONG_ANSWER
    fake_openai.stream_piece = 1000
    return fake_openai


async def test_a_long_answer_slack_cut_off_half_way_is_completed_by_the_retry_without_repeats(
    fake_slack, long_answers
):
    fake_slack.refuse["chat.startStream"] = "not_allowed_token_type"  # posted as Block Kit
    fake_slack.refuse["chat.postMessage"] = "fatal_error"
    fake_slack.refuse_after["chat.postMessage"] = 2  # two of the three messages go out

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    assert len(fake_slack.replies(thread_ts=THREAD)) == 2
    assert (await models.Question.objects.aget()).status == models.Question.Status.UNDELIVERED

    # Slack is back; the job's retry runs (here directly rather than after its backoff).
    fake_slack.refuse.clear()
    event = await models.SlackEvent.objects.aget()
    await tasks.answer_event(slack_event_id=event.pk)

    replies = fake_slack.replies(thread_ts=THREAD)
    assert len(replies) == 3
    _assert_whole_answer_once(replies)
    answer = await models.Answer.objects.aget()
    assert answer.slack_message_ts == replies[0].ts
    assert answer.slack_continuation_ts == [replies[1].ts, replies[2].ts]
    assert (await models.Question.objects.aget()).status == models.Question.Status.ANSWERED


async def test_a_long_live_answer_rewritten_by_a_retried_model_run_is_completed_in_full(
    fake_slack, long_answers
):
    long_answers.broken_streams = 1  # the first run breaks off; the second writes it again

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    replies = fake_slack.replies(thread_ts=THREAD)
    assert replies[0].streamed  # shown live, then completed in place
    assert len(replies) == 3
    _assert_whole_answer_once(replies)
    answer = await models.Answer.objects.aget()
    assert answer.slack_message_ts == replies[0].ts
    assert answer.delivered_at is not None
