"""Limits that keep things fair, and internal documents for internal people only.

A person over a limit, or from another organisation in a Slack Connect channel, is told why
in the thread; the question is kept with its status and reason for the admin.
"""

import asyncio
import datetime as dt

import pytest
from django.utils import timezone

from data import models
from domain.questions import records
from tests import factories
from tests.fakes import slack as fake_slack_module
from tests.slack.conftest import ASKER, event_callback, mention, post_signed, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)


def _question(number: int, *, user: str = ASKER) -> dict:
    ts = f"1700000000.{number:06d}"
    return event_callback(
        mention(f"how do I roll back? ({number})", ts=ts, user=user), event_id=f"Ev{number}"
    )


async def test_a_person_over_the_questions_per_minute_is_told_to_wait_and_others_are_not(
    fake_slack, settings
):
    settings.CHATBOT_QUESTIONS_PER_MINUTE = 3
    settings.CHATBOT_QUESTIONS_IN_FLIGHT = 0
    for number in range(1, 6):
        await post_signed(_question(number))
    await post_signed(_question(9, user="UOTHER"))
    await run_worker_until_idle()

    statuses = [
        q.status async for q in models.Question.objects.filter(asker_id=ASKER).order_by("id")
    ]
    assert statuses.count(models.Question.Status.ANSWERED) == 3
    assert statuses.count(models.Question.Status.LIMITED) == 2
    limited = models.Question.objects.filter(status=models.Question.Status.LIMITED)
    async for question in limited:
        assert "CHATBOT_QUESTIONS_PER_MINUTE" in question.error
        [reply] = fake_slack.replies(thread_ts=question.thread_ts)
        assert "in the last minute" in reply.text
        assert "make rollback" not in reply.text
    other = await models.Question.objects.aget(asker_id="UOTHER")
    assert other.status == models.Question.Status.ANSWERED


async def test_a_person_with_questions_in_flight_is_told_to_wait_for_them(fake_slack, settings):
    settings.CHATBOT_QUESTIONS_PER_MINUTE = 0
    settings.CHATBOT_QUESTIONS_IN_FLIGHT = 2
    fake_slack.hold["chat.startStream"] = asyncio.Event()  # answers stay in flight
    for number in range(1, 5):
        await post_signed(_question(number))
    worker = asyncio.create_task(run_worker_until_idle(concurrency=10))
    limited = models.Question.objects.filter(status=models.Question.Status.LIMITED)
    async with asyncio.timeout(30):
        while await limited.acount() < 2 or len(fake_slack.calls_to("chat.postMessage")) < 2:  # noqa: ASYNC110 (polls the database)
            await asyncio.sleep(0.05)
    fake_slack.hold.pop("chat.startStream").set()
    await worker

    assert await limited.acount() == 2
    async for question in limited:
        assert "CHATBOT_QUESTIONS_IN_FLIGHT" in question.error
        [reply] = fake_slack.replies(thread_ts=question.thread_ts)
        assert "still working on 2 of your questions" in reply.text
    answered = models.Question.objects.filter(status=models.Question.Status.ANSWERED)
    assert await answered.acount() == 2


def _shared_channel(event: dict, *, user_team: str) -> dict:
    event["event"]["user_team"] = user_team
    event["event"]["team"] = user_team
    event["is_ext_shared_channel"] = True
    return event


async def test_someone_from_another_organisation_is_told_why_they_get_no_answer(fake_slack):
    await post_signed(_shared_channel(_question(1, user="UEXT"), user_team="TOTHERORG"))
    await run_worker_until_idle()

    question = await models.Question.objects.aget()
    assert question.status == models.Question.Status.EXTERNAL
    [reply] = fake_slack.replies(thread_ts=question.thread_ts)
    assert "outside the company" in reply.text
    assert "make rollback" not in reply.text
    assert await models.Answer.objects.acount() == 0


async def test_colleagues_in_a_shared_channel_are_answered_and_a_setting_lets_everyone_in(
    fake_slack, settings
):
    home = fake_slack_module.TEAM_ID
    await post_signed(_shared_channel(_question(1), user_team=home))
    settings.CHATBOT_ANSWER_EXTERNAL_USERS = True
    await post_signed(_shared_channel(_question(2, user="UEXT"), user_team="TOTHERORG"))
    await run_worker_until_idle()

    statuses = {q.asker_id: q.status async for q in models.Question.objects.all()}
    assert statuses == {
        ASKER: models.Question.Status.ANSWERED,
        "UEXT": models.Question.Status.ANSWERED,
    }


async def test_a_long_thread_gives_the_model_only_its_latest_exchanges_within_the_bounds():
    start = timezone.now() - dt.timedelta(hours=1)
    for number in range(6):
        question = await factories.QuestionFactory.acreate(
            channel_id="C1",
            thread_ts="1.0",
            text=f"question {number}",
            asked_at=start + dt.timedelta(minutes=number),
        )
        await factories.AnswerFactory.acreate(question=question, text=f"answer {number} " * 10)

    history = await records.thread_history(
        channel_id="C1", thread_ts="1.0", before=timezone.now(), max_turns=3, max_chars=10_000
    )
    assert [turn.question for turn in history] == ["question 3", "question 4", "question 5"]

    history = await records.thread_history(
        channel_id="C1", thread_ts="1.0", before=timezone.now(), max_turns=10, max_chars=200
    )
    assert [turn.question for turn in history] == ["question 4", "question 5"]
    assert sum(len(turn.question) + len(turn.answer) for turn in history) <= 200
