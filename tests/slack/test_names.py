"""People and channels by name: looked up while answering, cached, never in the way."""

import pytest

from data import models
from tests.slack.conftest import event_callback, mention, post_signed, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_asker_and_channel_are_stored_by_name(fake_slack):
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    question = await models.Question.objects.aget()
    assert (question.asker_id, question.asker_name) == ("U123", "Ada")
    assert (question.channel_id, question.channel_name) == ("C1", "#deploys")


async def test_names_are_looked_up_once_per_process_not_once_per_question(fake_slack):
    # Slow lookups, so the questions answered at once all want the names while one is asked.
    fake_slack.delay["users.info"] = fake_slack.delay["conversations.info"] = 0.3
    for number in range(3):
        ts = f"1700000000.00020{number}"
        await post_signed(
            event_callback(mention("how do I roll back?", ts=ts), event_id=f"E{number}")
        )
    await run_worker_until_idle()

    assert len(fake_slack.calls_to("users.info")) == 1
    assert len(fake_slack.calls_to("conversations.info")) == 1
    assert await models.Question.objects.filter(channel_name="#deploys").acount() == 3


async def test_a_lookup_slack_refuses_leaves_the_id_and_the_answer(fake_slack):
    fake_slack.refuse["users.info"] = "missing_scope"
    fake_slack.refuse["conversations.info"] = "channel_not_found"

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.ANSWERED
    assert (question.asker_id, question.asker_name) == ("U123", "")
    assert (question.channel_id, question.channel_name) == ("C1", "")
