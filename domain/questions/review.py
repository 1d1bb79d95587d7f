"""What reviewers read about stored questions: the admin overview and the CSV export.

Django admin is synchronous, so these queries are too. Each runs a fixed number of SQL
queries however many questions there are: the overview aggregates in the database, and the
export prefetches answers, citations and votes in bulk.
"""

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import (
    Aggregate,
    Count,
    Exists,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from data import models

OVERVIEW_WINDOW = dt.timedelta(days=7)
TOP_CATEGORY_COUNT = 5


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, *, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=float(fraction), **extra)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CategoryCount:
    category: str  # a models.Question.Category value, or "" when not classified
    label: str
    count: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Overview:
    """Questions today and over the last seven days, and how those seven days went."""

    today: int
    last_7_days: int
    answered: int
    answered_share: float | None  # None when there were no questions
    not_covered: int  # answered that the documentation does not cover it
    with_down_vote: int
    down_vote_share: float | None  # of answered questions; None when none was answered
    p50_latency_ms: float | None  # None when no question has a latency
    top_categories: tuple[CategoryCount, ...]


def has_vote(*, vote: str | None = None) -> Exists:
    """True for a question with a vote (of this kind) on any of its answers.

    A correlated ``EXISTS`` rather than a join: it filters without duplicating rows, and
    PostgreSQL evaluates it only for the rows a page needs.
    """
    votes = models.Feedback.objects.filter(answer__question=OuterRef("pk"))
    return Exists(votes.filter(vote=vote) if vote else votes)


def search_condition(*, term: str) -> Q:
    """Questions whose text, asker or any answer contains ``term`` (case-insensitive).

    The answers are matched with ``pk IN (subquery)`` rather than a join, so a question with
    several matching answers is found once without ``DISTINCT`` over the whole table; both
    texts have trigram indexes for ``UPPER(text) LIKE``.
    """
    answers = models.Answer.objects.filter(text__icontains=term).values("question_id")
    return Q(text__icontains=term) | Q(asker_name__icontains=term) | Q(pk__in=answers)


def vote_count(*, vote: str) -> Coalesce:
    """The number of votes of this kind on all answers of a question, as an annotation.

    A correlated subquery instead of ``Count`` over a join: the changelist orders by
    ``asked_at`` and shows one page, and a join with ``GROUP BY`` would make PostgreSQL count
    the votes of every question in the table before it could take that page.
    """
    votes = (
        models.Feedback.objects.filter(answer__question=OuterRef("pk"), vote=vote)
        .order_by()
        .annotate(count=Func("pk", function="COUNT"))
        .values("count")
    )
    return Coalesce(Subquery(votes, output_field=IntegerField()), 0)


def overview(*, now: dt.datetime) -> Overview:
    """Count the recent questions; "today" starts at local midnight (``TIME_ZONE``)."""
    start_of_today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    window = models.Question.objects.filter(asked_at__gt=now - OVERVIEW_WINDOW, asked_at__lte=now)
    answered = Q(status=models.Question.Status.ANSWERED)
    totals = window.aggregate(
        today=Count("pk", filter=Q(asked_at__gte=start_of_today)),
        last_7_days=Count("pk"),
        answered=Count("pk", filter=answered),
        not_covered=Count("pk", filter=Q(status=models.Question.Status.NOT_COVERED)),
        with_down_vote=Count("pk", filter=answered & Q(has_vote(vote=models.Feedback.Vote.DOWN))),
        p50_latency_ms=PercentileCont("latency_ms", fraction=0.5),
    )
    labels = dict(models.Question.Category.choices)
    categories = (
        window.values("category")
        .annotate(count=Count("pk"))
        .order_by("-count", "category")[:TOP_CATEGORY_COUNT]
    )
    total = totals["last_7_days"]
    return Overview(
        today=totals["today"],
        last_7_days=total,
        answered=totals["answered"],
        answered_share=totals["answered"] / total if total else None,
        not_covered=totals["not_covered"],
        with_down_vote=totals["with_down_vote"],
        down_vote_share=(
            totals["with_down_vote"] / totals["answered"] if totals["answered"] else None
        ),
        p50_latency_ms=totals["p50_latency_ms"],
        top_categories=tuple(
            CategoryCount(
                category=row["category"],
                label=str(labels.get(row["category"], "Not classified")),
                count=row["count"],
            )
            for row in categories
        ),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExportRow:
    """One question as a spreadsheet line: the latest answer, its sources and all votes."""

    question_id: int
    asked_at: dt.datetime
    asker: str
    channel: str
    question: str
    category: str
    status: str
    answer: str
    answer_count: int
    sources: str  # one "title <url>" per line
    up_votes: int
    down_votes: int
    answered_at: dt.datetime | None
    latency_ms: int | None
    reviewed: bool
    reviewed_at: dt.datetime | None
    quality_rating: int | None
    review_note: str


def export_rows(*, questions: QuerySet[models.Question]) -> Iterator[ExportRow]:
    """The selected questions, oldest first, in batches so a year of rows fits in memory."""
    answers = models.Answer.objects.order_by("created_at", "pk").prefetch_related(
        Prefetch("citations", queryset=models.Citation.objects.order_by("position", "pk")),
        Prefetch("feedback", queryset=models.Feedback.objects.order_by("pk")),
    )
    selected = (
        models.Question.objects.filter(pk__in=questions.values("pk"))
        .order_by("asked_at", "pk")
        .prefetch_related(Prefetch("answers", queryset=answers))
    )
    for question in selected.iterator(chunk_size=500):
        question_answers = list(question.answers.all())
        latest = question_answers[-1] if question_answers else None
        votes = [vote.vote for answer in question_answers for vote in answer.feedback.all()]
        yield ExportRow(
            question_id=question.pk,
            asked_at=question.asked_at,
            asker=question.asker_name or question.asker_id,
            channel=question.channel_id or question.via,
            question=question.text,
            category=question.category,
            status=question.status,
            answer=latest.text if latest else "",
            answer_count=len(question_answers),
            sources="\n".join(
                f"{citation.title} <{citation.url}>" if citation.url else citation.title
                for citation in (latest.citations.all() if latest else ())
            ),
            up_votes=votes.count(models.Feedback.Vote.UP),
            down_votes=votes.count(models.Feedback.Vote.DOWN),
            answered_at=question.answered_at,
            latency_ms=question.latency_ms,
            reviewed=question.reviewed,
            reviewed_at=question.reviewed_at,
            quality_rating=question.quality_rating,
            review_note=question.review_note,
        )
