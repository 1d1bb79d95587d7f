"""A correction that sticks: a reviewer writes the right answer once; the bot then finds it
first and cites it as reviewed; retired, it is gone from answers and kept as history."""

import pytest
from asgiref.sync import sync_to_async

from application.knowledge import reviewed
from data import models
from tests import admin_support
from tests.slack.conftest import event_callback, mention, post_signed, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)

CORRECTION = (
    "Since May, roll back a deploy with `make rollback ENV=production` from any branch; "
    "the release branch is no longer needed."
)


def _review_in_the_admin(question_id: int) -> None:
    client = admin_support.logged_in_client(admin_support.make_reviewer("rita"))
    url = f"/admin/data/question/{question_id}/change/"
    data = admin_support.form_data(client.get(url).content, "question_form")
    data["correct_answer"] = CORRECTION
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]


async def _ask(text: str, *, ts: str, event_id: str) -> models.Answer:
    await post_signed(event_callback(mention(text, ts=ts), event_id=event_id))
    await run_worker_until_idle()
    return await models.Answer.objects.filter(question__message_ts=ts).aget()


async def test_a_reviewed_answer_is_cited_first_for_a_later_question(fake_slack):
    first = await _ask("how do I roll back a deploy?", ts="1700000000.000100", event_id="E1")
    await sync_to_async(_review_in_the_admin, thread_sensitive=True)(first.question_id)

    later = await _ask("how do I roll back a deploy now?", ts="1700000000.000200", event_id="E2")

    citations = [c async for c in later.citations.order_by("position")]
    assert citations[0].title.startswith("Reviewed by rita on ")
    assert "make rollback ENV=production" in later.text
    [in_force] = [a async for a in models.ReviewedAnswer.objects.all()]
    assert (in_force.question_id, in_force.reviewer_name, in_force.retired_at) == (
        first.question_id,
        "rita",
        None,
    )


async def test_a_retired_answer_is_no_longer_cited_and_its_history_stays(fake_slack):
    first = await _ask("how do I roll back a deploy?", ts="1700000000.000100", event_id="E1")
    publish = sync_to_async(reviewed.publish, thread_sensitive=True)
    old = await publish(
        question_id=first.question_id,
        text="Old: ask the on-call.",
        reviewer_id=None,
        reviewer_name="sam",
    )
    new = await publish(
        question_id=first.question_id, text=CORRECTION, reviewer_id=None, reviewer_name="rita"
    )
    await sync_to_async(reviewed.retire, thread_sensitive=True)(reviewed_ids=[new])

    later = await _ask("how do I roll back a deploy now?", ts="1700000000.000200", event_id="E2")

    titles = [c.title async for c in later.citations.all()]
    assert not any(title.startswith("Reviewed by") for title in titles)
    history = {a.pk: a.retired_at async for a in models.ReviewedAnswer.objects.all()}
    assert set(history) == {old, new}
    assert all(retired is not None for retired in history.values())  # replaced, then retired
