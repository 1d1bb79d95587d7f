"""The schema's invariants (docs/architecture.md, "Invariants in the schema"), on real PostgreSQL.

Each constraint refuses the write that breaks it and lets the states the product writes through;
the product's flows themselves are the rest of the suite.
"""

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from data import models
from tests import factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
BEFORE = ("data", "0008_knowledge_index_refresh_marker")
WITH_CONSTRAINTS = ("data", "0009_schema_invariants")


@contextlib.contextmanager
def refused(constraint: str) -> Iterator[None]:
    """The write inside is refused by PostgreSQL for breaking ``constraint``."""
    with pytest.raises(IntegrityError, match=f'constraint "{constraint}"'), transaction.atomic():
        yield


def release_notes(**fields: Any) -> models.ReleaseNotes:
    return models.ReleaseNotes.objects.create(
        **{
            "repository": "git@example.com:acme/app.git",
            "from_ref": "v1.0.0",
            "to_ref": "v1.1.0",
            "from_sha": "a" * 40,
            "to_sha": "b" * 40,
            "markdown": "## Fixes\n",
            "model": "offline",
            "commit_count": 3,
            "duration_ms": 40,
            "created_at": NOW,
            **fields,
        }
    )


# Questions.


@pytest.mark.parametrize("status", models.Question.Status.values)
def test_a_question_takes_each_status_of_the_pipeline(status):
    factories.QuestionFactory.create(status=status)


def test_a_question_refuses_an_unknown_status():
    with refused("question_status_valid"):
        factories.QuestionFactory.create(status="DONE")


def test_a_question_refuses_an_unknown_channel():
    factories.QuestionFactory.create(via=models.Question.Channel.TERMINAL, channel_id="")
    with refused("question_via_valid"):
        factories.QuestionFactory.create(via="EMAIL")


@pytest.mark.parametrize("category", ["", *models.Question.Category.values])
def test_a_question_is_unlabelled_or_has_a_known_category(category):
    factories.QuestionFactory.create(category=category)


def test_a_question_refuses_an_unknown_category():
    with refused("question_category_valid"):
        factories.QuestionFactory.create(category="GOSSIP")


def test_only_a_question_asked_in_slack_comes_from_a_slack_event():
    def event(event_id: str) -> models.SlackEvent:
        return models.SlackEvent.objects.create(
            event_id=event_id, event_type="app_mention", payload={}, received_at=NOW
        )

    factories.QuestionFactory.create(slack_event=event("Ev1"), via=models.Question.Channel.SLACK)
    with refused("question_slack_event_via_slack"):
        factories.QuestionFactory.create(
            slack_event=event("Ev2"), via=models.Question.Channel.TERMINAL
        )


def test_answered_at_and_latency_are_written_together():
    with refused("question_answered_at_with_latency"):
        factories.QuestionFactory.create(status="PROCESSING", answered_at=NOW, latency_ms=None)
    with refused("question_answered_at_with_latency"):
        factories.QuestionFactory.create(status="PROCESSING", answered_at=None, latency_ms=1200)


def test_an_answered_question_has_its_answer_time():
    with refused("question_answered_has_answered_at"):
        factories.QuestionFactory.create(status="ANSWERED", answered_at=None, latency_ms=None)


def test_a_question_answered_once_keeps_its_time_when_answering_again_fails_to_deliver():
    factories.QuestionFactory.create(
        status="UNDELIVERED", answered_at=NOW, latency_ms=900, error="delivery failed: timeout"
    )


@pytest.mark.parametrize("status", ["FAILED", "UNDELIVERED"])
def test_a_failed_or_undelivered_question_says_what_went_wrong(status):
    with refused("question_failure_has_error"):
        factories.QuestionFactory.create(status=status, error="")
    question = factories.QuestionFactory.create(status="PROCESSING")
    with refused("question_failure_has_error"):
        models.Question.objects.filter(pk=question.pk).update(status=status)


def test_an_answered_question_may_keep_the_error_of_a_later_failed_answer_again():
    factories.QuestionFactory.create(status="ANSWERED", error="TimeoutError: no answer")


def test_a_review_has_its_time_and_an_unticked_one_has_no_reviewer():
    reviewer = factories.UserFactory.create(is_staff=True)
    factories.QuestionFactory.create(reviewed=True, reviewer=reviewer, reviewed_at=NOW)
    # The reviewer's account was deleted since (SET_NULL): the review stands.
    factories.QuestionFactory.create(reviewed=True, reviewer=None, reviewed_at=NOW)
    with refused("question_review_recorded"):
        factories.QuestionFactory.create(reviewed=True, reviewer=reviewer, reviewed_at=None)
    with refused("question_review_recorded"):
        factories.QuestionFactory.create(reviewed=False, reviewer=reviewer, reviewed_at=None)
    with refused("question_review_recorded"):
        factories.QuestionFactory.create(reviewed=False, reviewed_at=NOW)


def test_deleting_the_reviewers_account_keeps_the_review():
    reviewer = factories.UserFactory.create(is_staff=True)
    question = factories.QuestionFactory.create(reviewed=True, reviewer=reviewer, reviewed_at=NOW)

    reviewer.delete()

    question.refresh_from_db()
    assert (question.reviewed, question.reviewer, question.reviewed_at) == (True, None, NOW)


# Answers and citations.


def test_an_answer_continues_in_more_messages_only_after_its_first():
    factories.AnswerFactory.create(slack_message_ts="1.1", slack_continuation_ts=["1.2", "1.3"])
    with refused("answer_continuations_follow_first_message"):
        factories.AnswerFactory.create(
            slack_message_ts="", slack_continuation_ts=["1.2"], delivered_at=None
        )


def test_an_answer_delivered_in_slack_has_its_message():
    with refused("answer_delivered_in_slack_has_message"):
        factories.AnswerFactory.create(slack_channel_id="C0001", slack_message_ts="")
    # Stored, not yet posted: the ts comes when the message exists.
    factories.AnswerFactory.create(slack_channel_id="C0001", slack_message_ts="", delivered_at=None)
    # Delivered in the terminal (``manage.py ask``): there is no message.
    factories.AnswerFactory.create(
        question=factories.QuestionFactory.create(via="TERMINAL", channel_id=""),
        slack_channel_id="",
        slack_message_ts="",
    )


def test_citations_are_numbered_from_1():
    factories.CitationFactory.create(position=1)
    with refused("citation_position_from_1"):
        factories.CitationFactory.create(position=0)


# Agent runs.


def test_an_agent_run_belongs_to_exactly_one_owner():
    question = factories.QuestionFactory.create()
    notes = release_notes()
    factories.AgentRunFactory.create(question=question, release_notes=None)
    factories.AgentRunFactory.create(question=None, release_notes=notes)
    with refused("agent_run_one_owner"):
        factories.AgentRunFactory.create(question=None, release_notes=None)
    with refused("agent_run_one_owner"):
        factories.AgentRunFactory.create(question=question, release_notes=notes)


def test_an_agent_run_refuses_an_unknown_outcome():
    with refused("agent_run_outcome_valid"):
        factories.AgentRunFactory.create(outcome="CRASHED", error="boom")


@pytest.mark.parametrize("outcome", ["ERROR", "TIMEOUT", "INVALID_OUTPUT"])
def test_a_failed_agent_run_says_what_went_wrong(outcome):
    factories.AgentRunFactory.create(outcome=outcome, error="TimeoutError: took too long")
    with refused("agent_run_error_matches_outcome"):
        factories.AgentRunFactory.create(outcome=outcome, error="")


def test_an_agent_run_that_ended_ok_has_no_error():
    factories.AgentRunFactory.create(outcome="OK", error="")
    with refused("agent_run_error_matches_outcome"):
        factories.AgentRunFactory.create(outcome="OK", error="TimeoutError: took too long")


# Feedback.


@pytest.mark.parametrize("vote", models.Feedback.Vote.values)
def test_a_vote_is_up_or_down(vote):
    factories.FeedbackFactory.create(vote=vote)


def test_a_vote_refuses_anything_else():
    with refused("feedback_vote_valid"):
        factories.FeedbackFactory.create(vote="MEH")


# Release notes.


def test_posted_release_notes_name_their_channel_and_unposted_ones_have_neither():
    release_notes()
    release_notes(posted_channel="C0RELEASES", posted_at=NOW)
    with refused("release_notes_posted_with_channel"):
        release_notes(posted_channel="", posted_at=NOW)
    with refused("release_notes_posted_with_channel"):
        release_notes(posted_channel="C0RELEASES", posted_at=None)


# Counters and latencies were already non-negative: PositiveIntegerField checks it.


@pytest.mark.parametrize(
    ("create", "field"),
    [
        (factories.QuestionFactory.create, "latency_ms"),
        (factories.AgentRunFactory.create, "input_tokens"),
        (factories.AgentRunFactory.create, "output_tokens"),
        (factories.AgentRunFactory.create, "latency_ms"),
    ],
)
def test_counters_and_latencies_are_never_negative(create, field):
    with pytest.raises(IntegrityError, match=f"{field}"), transaction.atomic():
        create(**{field: -1})


# The migration and the rows that existed before it.


@contextlib.contextmanager
def schema_before_constraints() -> Iterator[Any]:
    """Migrate data back to before 0009 (inside the test's transaction, which PostgreSQL's
    transactional DDL rolls back at the end) and hand over that schema's models."""
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    yield executor.loader.project_state([BEFORE]).apps
    # ALTER TABLE refuses to run while inserted rows' deferred foreign-key checks are pending.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def migrate_forward() -> None:
    """Through 0009 and every migration after it, so the current models fit the schema."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_migration_repairs_failures_without_an_error_and_leftover_reviews():
    reviewer = factories.UserFactory.create(is_staff=True)
    with schema_before_constraints() as apps:
        Question = apps.get_model("data", "Question")
        fields = {"text": "How do I deploy?", "asked_at": NOW}
        failed = Question.objects.create(status="FAILED", error="", **fields)
        unreviewed = Question.objects.create(
            status="PROCESSING", reviewer_id=reviewer.pk, reviewed_at=NOW, **fields
        )

    migrate_forward()

    failed = models.Question.objects.get(pk=failed.pk)
    unreviewed = models.Question.objects.get(pk=unreviewed.pk)
    assert failed.error == "unknown error"
    assert (unreviewed.reviewer, unreviewed.reviewed_at) == (None, None)


def test_the_migration_refuses_rows_it_cannot_repair_and_names_them():
    with schema_before_constraints() as apps:
        AgentRun = apps.get_model("data", "AgentRun")
        orphan = AgentRun.objects.create(
            agent="answer", model="offline", latency_ms=5, outcome="OK", started_at=timezone.now()
        )

    with pytest.raises(RuntimeError) as refusal:
        migrate_forward()

    message = str(refusal.value)
    assert f"data.AgentRun ids {orphan.pk} break agent_run_one_owner" in message
    assert "correct or delete them, then migrate again" in message


# Documentation sources.


def test_a_source_has_a_known_kind_and_sync_outcome():
    with refused("source_kind_valid"):
        models.DocumentationSource.objects.create(name="a", kind="FTP", location="ftp://x")
    with refused("source_sync_outcome_valid"):
        models.DocumentationSource.objects.create(name="b", root="/srv", last_sync_outcome="MEH")


def test_a_web_or_git_source_has_its_location():
    for kind in ("WEB", "GIT"):
        with refused("source_web_git_have_location"):
            models.DocumentationSource.objects.create(name=kind, kind=kind, location="")
    models.DocumentationSource.objects.create(name="folder", kind="FOLDER", root="/srv/docs")
