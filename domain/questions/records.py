"""Questions and their answers: async reads returning dataclasses, sync writes for one atomic block.

The answer pipeline reads what it needs up front (the question's state, the thread's earlier
exchange), gives the connection back, talks to models and Slack, and then writes. The write
functions here never open their own transaction: the caller wraps them in one
``transaction.atomic()`` so an answer, its citations and its agent runs land together.
"""

import dataclasses
import datetime as dt

from django.db import connection
from django.db.models import Prefetch

from data import models
from domain import agent_runs


@dataclasses.dataclass(frozen=True, kw_only=True)
class Turn:
    """One earlier exchange in a thread: what was asked and what the bot answered."""

    question: str
    answer: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnswerState:
    id: int
    text: str
    covered: bool
    model: str
    slack_message_ts: str
    delivered: bool
    continuation_ts: list[str]
    citations: list["CitationInput"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class QuestionState:
    """A stored question and its latest answer: enough to tell what a re-run still has to do."""

    id: int
    status: str
    text: str
    via: str
    team_id: str
    channel_id: str
    thread_ts: str
    message_ts: str
    asker_id: str
    asked_at: dt.datetime
    private: bool
    latest_answer: AnswerState | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class CitationInput:
    chunk_id: int | None
    title: str
    heading: str
    url: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class NewQuestion:
    via: str
    text: str
    asked_at: dt.datetime
    slack_event_id: int | None = None
    team_id: str = ""
    channel_id: str = ""
    thread_ts: str = ""
    message_ts: str = ""
    asker_id: str = ""
    private: bool = False


def _answers_newest_first() -> Prefetch:
    return Prefetch(
        "answers",
        queryset=models.Answer.objects.order_by("-created_at", "-id").prefetch_related(
            Prefetch("citations", queryset=models.Citation.objects.order_by("position", "id"))
        ),
    )


def _to_state(question: models.Question) -> QuestionState:
    answers = list(question.answers.all())
    latest = answers[0] if answers else None
    return QuestionState(
        id=question.pk,
        status=question.status,
        text=question.text,
        via=question.via,
        team_id=question.team_id,
        channel_id=question.channel_id,
        thread_ts=question.thread_ts,
        message_ts=question.message_ts,
        asker_id=question.asker_id,
        asked_at=question.asked_at,
        private=question.private,
        latest_answer=None
        if latest is None
        else AnswerState(
            id=latest.pk,
            text=latest.text,
            covered=latest.covered,
            model=latest.model,
            slack_message_ts=latest.slack_message_ts,
            delivered=latest.delivered_at is not None,
            continuation_ts=list(latest.slack_continuation_ts),
            citations=[
                CitationInput(
                    chunk_id=citation.chunk_id,
                    title=citation.title,
                    heading=citation.heading,
                    url=citation.url,
                )
                for citation in latest.citations.all()
            ],
        ),
    )


async def for_slack_event(*, slack_event_id: int) -> QuestionState | None:
    question = await (
        models.Question.objects.filter(slack_event_id=slack_event_id)
        .prefetch_related(_answers_newest_first())
        .afirst()
    )
    return None if question is None else _to_state(question)


async def get(*, question_id: int) -> QuestionState:
    question = await models.Question.objects.prefetch_related(_answers_newest_first()).aget(
        pk=question_id
    )
    return _to_state(question)


async def thread_history(
    *, channel_id: str, thread_ts: str, before: dt.datetime, max_turns: int, max_chars: int
) -> list[Turn]:
    """Earlier answered questions of the thread, oldest first, each with its latest answer:
    the newest ``max_turns`` of them, fewer when they hold more than ``max_chars`` characters
    (a long thread must not make every follow-up slower and dearer, or overflow the model)."""
    if not channel_id or not thread_ts or max_turns <= 0:
        return []
    newest_first: list[Turn] = []
    queryset = (
        models.Question.objects.filter(
            channel_id=channel_id,
            thread_ts=thread_ts,
            asked_at__lt=before,
            answers__text__gt="",
        )
        .distinct()
        .prefetch_related(
            Prefetch("answers", queryset=models.Answer.objects.order_by("-created_at", "-id"))
        )
        .order_by("-asked_at", "-id")[:max_turns]
    )
    left = max_chars
    async for question in queryset:
        answer = next(answer.text for answer in question.answers.all() if answer.text)
        if len(question.text) + len(answer) > left:
            if not newest_first:  # the latest exchange alone is too long: its start
                cut = question.text[:left]
                newest_first.append(Turn(question=cut, answer=answer[: left - len(cut)]))
            break
        left -= len(question.text) + len(answer)
        newest_first.append(Turn(question=question.text, answer=answer))
    return newest_first[::-1]


async def answered_since(*, question_id: int, since: dt.datetime) -> bool:
    """Whether the question has an answer (finished or being written) from ``since`` on."""
    return await models.Answer.objects.filter(
        question_id=question_id, created_at__gte=since
    ).aexists()


def bot_answered_in_thread(*, channel_id: str, thread_ts: str, asker_id: str) -> bool:
    """Whether the bot answered this person in this thread (their next message follows up).

    Sync, so the inbox can ask it inside the transaction that stores the follow-up.
    """
    return models.Question.objects.filter(
        channel_id=channel_id, thread_ts=thread_ts, asker_id=asker_id, answers__isnull=False
    ).exists()


_MAX_LATENCY_MS = 2**31 - 1  # the column's range; a replayed old event must not break the write


def elapsed_ms(*, start: dt.datetime, end: dt.datetime) -> int:
    """Milliseconds from ``start`` to ``end``, within the latency columns' range."""
    return min(max(0, int((end - start).total_seconds() * 1000)), _MAX_LATENCY_MS)


# Writes: call inside the caller's transaction.atomic().


def start(*, new: NewQuestion) -> int:
    """Store the question as PROCESSING; a re-run for the same Slack event finds the same row."""
    defaults = {
        "via": new.via,
        "text": new.text,
        "asked_at": new.asked_at,
        "team_id": new.team_id,
        "channel_id": new.channel_id,
        "thread_ts": new.thread_ts,
        "message_ts": new.message_ts,
        "asker_id": new.asker_id,
        "private": new.private,
        "status": models.Question.Status.PROCESSING,
    }
    if new.slack_event_id is None:
        return models.Question.objects.create(**defaults).pk
    question, _ = models.Question.objects.update_or_create(
        slack_event_id=new.slack_event_id, defaults=defaults
    )
    return question.pk


def set_names(*, question_id: int, asker_name: str, channel_name: str) -> None:
    """Names looked up while the question is answered; a blank one leaves the stored one."""
    names = {
        field: value
        for field, value in (("asker_name", asker_name), ("channel_name", channel_name))
        if value
    }
    if names:
        models.Question.objects.filter(pk=question_id).update(**names)


def set_status(*, question_id: int, status: str) -> None:
    models.Question.objects.filter(pk=question_id).update(status=status)


def lock_asker(*, asker_id: str) -> None:
    """Serialise the admission of one person's questions until the transaction ends, so two
    arriving together are counted one after the other."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"asker:{asker_id}"])


def count_asked(*, asker_id: str, since: dt.datetime, excluding: int) -> int:
    """The person's questions asked since then (the limited ones too: asking again and again
    does not get through sooner)."""
    return (
        models.Question.objects.filter(asker_id=asker_id, asked_at__gte=since)
        .exclude(pk=excluding)
        .exclude(status=models.Question.Status.EXTERNAL)
        .count()
    )


def count_in_flight(*, asker_id: str, since: dt.datetime, excluding: int) -> int:
    """The person's questions being answered (asked since then: one whose job died long ago
    does not count for ever)."""
    return (
        models.Question.objects.filter(
            asker_id=asker_id,
            asked_at__gte=since,
            status__in=[models.Question.Status.RECEIVED, models.Question.Status.PROCESSING],
        )
        .exclude(pk=excluding)
        .count()
    )


def refuse(*, question_id: int, status: str, reason: str) -> None:
    """Not answered (LIMITED, EXTERNAL), with the reason for the admin."""
    models.Question.objects.filter(pk=question_id).update(status=status, error=reason)


def start_live_answer(
    *, question_id: int, model: str, slack_channel_id: str, slack_message_ts: str, now: dt.datetime
) -> int:
    """An empty answer holding the Slack message the model's text is streaming into.

    Empty text marks it unfinished: a re-run after a crash generates the answer again and
    completes that message instead of posting another.
    """
    return models.Answer.objects.create(
        question_id=question_id,
        text="",
        covered=False,
        model=model,
        created_at=now,
        slack_channel_id=slack_channel_id,
        slack_message_ts=slack_message_ts,
    ).pk


def record_answer(
    *,
    answer_id: int | None = None,
    question_id: int,
    text: str,
    covered: bool,
    model: str,
    citations: list[CitationInput],
    runs: list[agent_runs.AgentRunRecord],
    title: str,
    category: str,
    slack_channel_id: str,
    now: dt.datetime,
    first_status_ms: int | None = None,
) -> int:
    """The answer, its citations, the agent runs and the classification, before delivery.

    With ``answer_id`` (an unfinished live answer) that row is completed instead.
    """
    if answer_id is None:
        answer = models.Answer.objects.create(
            question_id=question_id,
            text=text,
            covered=covered,
            model=model,
            created_at=now,
            slack_channel_id=slack_channel_id,
        )
    else:
        answer = models.Answer.objects.get(pk=answer_id, question_id=question_id)
        answer.text, answer.covered, answer.model = text, covered, model
        answer.save(update_fields=["text", "covered", "model"])
    # A chunk re-ingested since the search is gone; the citation keeps what was shown.
    existing_chunks = set(
        models.Chunk.objects.filter(
            pk__in=[c.chunk_id for c in citations if c.chunk_id is not None]
        ).values_list("pk", flat=True)
    )
    models.Citation.objects.bulk_create(
        models.Citation(
            answer=answer,
            chunk_id=citation.chunk_id if citation.chunk_id in existing_chunks else None,
            position=position,
            title=citation.title[:500],
            heading=citation.heading,
            url=citation.url[:2000],
        )
        for position, citation in enumerate(citations, start=1)
    )
    agent_runs.save(runs=runs, question_id=question_id)
    fields: dict[str, object] = {}
    if title:
        fields["title"] = title[:200]
    if category:
        fields["category"] = category
    if first_status_ms is not None:
        fields["first_status_ms"] = first_status_ms
    if fields:
        models.Question.objects.filter(pk=question_id).update(**fields)
    return answer.pk


def record_message_ts(*, answer_id: int, slack_message_ts: str) -> None:
    """Remember each Slack message as soon as it exists, so a re-run edits it instead of posting.

    The first is the answer's message; an answer too long for one continues in more, kept in
    the order they were posted.
    """
    answer = models.Answer.objects.select_for_update().filter(pk=answer_id).first()
    if answer is None or slack_message_ts in (
        answer.slack_message_ts,
        *answer.slack_continuation_ts,
    ):
        return
    if not answer.slack_message_ts:
        answer.slack_message_ts = slack_message_ts
        answer.save(update_fields=["slack_message_ts"])
    else:
        answer.slack_continuation_ts = [*answer.slack_continuation_ts, slack_message_ts]
        answer.save(update_fields=["slack_continuation_ts"])


def delivered_status(*, covered: bool) -> str:
    """A delivered answer's outcome: answered, or not covered by the documentation."""
    return models.Question.Status.ANSWERED if covered else models.Question.Status.NOT_COVERED


def mark_delivered(
    *, question_id: int, answer_id: int, slack_message_ts: str, now: dt.datetime
) -> None:
    models.Answer.objects.filter(pk=answer_id).update(
        slack_message_ts=slack_message_ts, delivered_at=now
    )
    question = models.Question.objects.get(pk=question_id)
    covered = models.Answer.objects.filter(pk=answer_id).values_list("covered", flat=True).get()
    question.status = delivered_status(covered=covered)
    question.answered_at = now
    question.latency_ms = elapsed_ms(start=question.asked_at, end=now)
    question.error = ""
    question.save(update_fields=["status", "answered_at", "latency_ms", "error"])


def mark_undelivered(*, question_id: int, error: str) -> None:
    models.Question.objects.filter(pk=question_id).update(
        status=models.Question.Status.UNDELIVERED, error=error
    )


def forget_unfinished_answer(*, answer_id: int) -> None:
    """Drop an answer the model never finished, once its message says sorry instead."""
    models.Answer.objects.filter(pk=answer_id, text="").delete()


def mark_failed(
    *,
    question_id: int,
    error: str,
    runs: list[agent_runs.AgentRunRecord],
    unfinished_answer_id: int | None = None,
    first_status_ms: int | None = None,
) -> None:
    """FAILED with the error; a question that already has an answer keeps its status."""
    agent_runs.save(runs=runs, question_id=question_id)
    if unfinished_answer_id is not None:
        forget_unfinished_answer(answer_id=unfinished_answer_id)
    question = models.Question.objects.filter(pk=question_id)
    fields: dict[str, object] = {"error": error}
    if first_status_ms is not None:
        fields["first_status_ms"] = first_status_ms
    if not models.Answer.objects.filter(question_id=question_id).exists():
        fields["status"] = models.Question.Status.FAILED
    question.update(**fields)


def give_up(*, question_id: int, error: str) -> None:
    """FAILED with the error: the job that answers it gave up after its last attempt."""
    models.Question.objects.filter(pk=question_id).update(
        status=models.Question.Status.FAILED, error=error
    )
