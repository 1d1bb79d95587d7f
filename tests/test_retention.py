"""Retention: old questions lose their words and people; their figures stay."""

import datetime as dt

import pytest
from asgiref.sync import async_to_sync

from application import retention
from data import models
from domain.questions import retention as forgetting
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _old_question(*, days: int, text: str = "Why was my expense claim for Lisbon rejected?"):
    asked = NOW - dt.timedelta(days=days)
    question = factories.QuestionFactory.create(
        text=text,
        asked_at=asked,
        asker_id="U0DANA",
        asker_name="Dana Whitfield",
        status="ANSWERED",
        latency_ms=1200,
        category="POLICY",
    )
    answer = factories.AnswerFactory.create(question=question, text="Claims over 500 EUR ...")
    factories.FeedbackFactory.create(
        answer=answer,
        vote="DOWN",
        reason="WRONG",
        comment="Dana's claim was 400 EUR",
        slack_user_id="U0DANA",
    )
    factories.AgentRunFactory.create(question=question, input_tokens=900)
    models.Escalation.objects.create(
        question=question,
        answer=answer,
        requested_by="U0DANA",
        target_channel_id="CHELP",
        requested_at=asked,
        person_answer="Dana, resubmit with the receipt.",
        answered_by="U0FIN",
        answered_at=asked,
        state="ANSWERED",
    )
    models.SlackEvent.objects.create(
        event_id=f"Ev{days}", event_type="app_mention", payload={"text": text}, received_at=asked
    )
    return question


def test_old_questions_lose_their_words_and_people_and_keep_their_figures(settings, monkeypatch):
    settings.CHATBOT_RETENTION_DAYS = 90
    monkeypatch.setattr(retention, "BATCH", 2)  # several batches
    old = [_old_question(days=100 + n) for n in range(5)]
    recent = _old_question(days=10, text="How do I book travel?")

    forgotten = async_to_sync(retention.forget_old)(now=NOW)

    assert (forgotten.questions, forgotten.events) == (5, 5)
    for question in old:
        question.refresh_from_db()
        assert question.text == forgetting.REMOVED
        assert (question.asker_id, question.asker_name) == ("", "")
        assert question.forgotten_at == NOW
        # The figures stay.
        assert (question.status, question.category, question.latency_ms) == (
            "ANSWERED",
            "POLICY",
            1200,
        )
        answer = question.answers.get()
        assert answer.text == forgetting.REMOVED
        vote = answer.feedback.get()
        assert (vote.vote, vote.reason, vote.comment) == ("DOWN", "WRONG", "")
        assert vote.slack_user_id.startswith("forgotten-")
        assert question.agent_runs.get().input_tokens == 900
        escalation = question.escalations.get()
        assert (escalation.requested_by, escalation.person_answer, escalation.state) == (
            "",
            "",
            "ANSWERED",
        )
    recent.refresh_from_db()
    assert (recent.text, recent.asker_name) == ("How do I book travel?", "Dana Whitfield")
    assert list(models.SlackEvent.objects.values_list("event_id", flat=True)) == ["Ev10"]


def test_a_second_run_has_nothing_left_and_zero_days_keeps_everything(settings):
    _old_question(days=400)
    settings.CHATBOT_RETENTION_DAYS = 0

    assert async_to_sync(retention.forget_old)(now=NOW).questions == 0
    assert models.Question.objects.get().forgotten_at is None

    settings.CHATBOT_RETENTION_DAYS = 30
    assert async_to_sync(retention.forget_old)(now=NOW).questions == 1
    assert async_to_sync(retention.forget_old)(now=NOW + dt.timedelta(days=1)).questions == 0


def test_the_daily_job_is_scheduled():
    from chatbot import tasks

    periodic = {
        task.periodic_id: task for task in tasks.app.periodic_registry.periodic_tasks.values()
    }
    assert periodic["forget_old_questions"].cron == "17 3 * * *"
