"""The admin dashboard's figures for a period: a fixed number of aggregate queries (five),
however many questions there are.

Days are local days (``TIME_ZONE``). Outcomes follow the question's status; "escalated"
counts questions someone asked a person about, whatever their status.
"""

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from data import models
from domain.questions.review import PercentileCont

TOP_CHANNELS = 5

type Prices = dict[str, tuple[Decimal, Decimal]]  # model -> (input, output) per 1M tokens


@dataclasses.dataclass(frozen=True, kw_only=True)
class Day:
    day: dt.date
    answered: int = 0
    not_covered: int = 0
    failed: int = 0  # FAILED or UNDELIVERED
    other: int = 0  # still processing, over a limit, external
    escalated: int = 0
    p50_ms: float | None = None  # time to the answer
    p95_ms: float | None = None
    status_p50_ms: float | None = None  # time to the first status
    status_p95_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal(0)

    @property
    def total(self) -> int:
        return self.answered + self.not_covered + self.failed + self.other


@dataclasses.dataclass(frozen=True, kw_only=True)
class Channel:
    channel_id: str
    name: str
    questions: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Dashboard:
    start: dt.date
    end: dt.date  # inclusive
    days: list[Day]
    up_votes: int
    down_votes: int
    channels: list[Channel]
    unpriced_models: list[str]  # models with tokens but no price in the settings

    @property
    def cost(self) -> Decimal:
        return sum((day.cost for day in self.days), Decimal(0))


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    first = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return first, after


def dashboard(*, start: dt.date, end: dt.date, prices: Prices) -> Dashboard:
    first, after = _bounds(start, end)
    zone = timezone.get_current_timezone()
    questions = models.Question.objects.filter(asked_at__gte=first, asked_at__lt=after)
    status = models.Question.Status
    escalated = Exists(models.Escalation.objects.filter(question=OuterRef("pk")))
    rows = (
        questions.annotate(day=TruncDate("asked_at", tzinfo=zone))
        .values("day")
        .annotate(
            answered=Count("pk", filter=Q(status=status.ANSWERED)),
            not_covered=Count("pk", filter=Q(status=status.NOT_COVERED)),
            failed=Count("pk", filter=Q(status__in=[status.FAILED, status.UNDELIVERED])),
            total=Count("pk"),
            escalated=Count("pk", filter=Q(escalated)),
            p50=PercentileCont("latency_ms", fraction=0.5),
            p95=PercentileCont("latency_ms", fraction=0.95),
            status_p50=PercentileCont("first_status_ms", fraction=0.5),
            status_p95=PercentileCont("first_status_ms", fraction=0.95),
        )
        .order_by("day")
    )
    by_day: dict[dt.date, Any] = {row["day"]: row for row in rows}
    tokens: dict[dt.date, list[tuple[str, int, int]]] = {}
    for run in (
        models.AgentRun.objects.filter(started_at__gte=first, started_at__lt=after)
        .annotate(day=TruncDate("started_at", tzinfo=zone))
        .values("day", "model")
        .annotate(input=Sum("input_tokens"), output=Sum("output_tokens"))
        .order_by("day", "model")
    ):
        tokens.setdefault(run["day"], []).append((run["model"], run["input"], run["output"]))
    unpriced: set[str] = set()
    days = []
    day = start
    while day <= end:
        row = by_day.get(day, {})
        runs = tokens.get(day, [])
        cost = Decimal(0)
        for model, input_tokens, output_tokens in runs:
            if model not in prices:
                if input_tokens or output_tokens:
                    unpriced.add(model)
                continue
            per_input, per_output = prices[model]
            cost += (input_tokens * per_input + output_tokens * per_output) / 1_000_000
        answered, not_covered, failed = (
            int(row.get(key, 0)) for key in ("answered", "not_covered", "failed")
        )
        days.append(
            Day(
                day=day,
                answered=answered,
                not_covered=not_covered,
                failed=failed,
                other=int(row.get("total", 0)) - answered - not_covered - failed,
                escalated=int(row.get("escalated", 0)),
                p50_ms=row.get("p50"),
                p95_ms=row.get("p95"),
                status_p50_ms=row.get("status_p50"),
                status_p95_ms=row.get("status_p95"),
                input_tokens=sum(run[1] for run in runs),
                output_tokens=sum(run[2] for run in runs),
                cost=cost,
            )
        )
        day += dt.timedelta(days=1)
    votes = models.Feedback.objects.filter(
        answer__question__asked_at__gte=first, answer__question__asked_at__lt=after
    ).aggregate(
        up=Count("pk", filter=Q(vote=models.Feedback.Vote.UP)),
        down=Count("pk", filter=Q(vote=models.Feedback.Vote.DOWN)),
    )
    channels = (
        questions.exclude(channel_id="")
        .values("channel_id")
        .annotate(questions=Count("pk"), name=Max("channel_name"))
        .order_by("-questions", "channel_id")[:TOP_CHANNELS]
    )
    return Dashboard(
        start=start,
        end=end,
        days=days,
        up_votes=votes["up"],
        down_votes=votes["down"],
        channels=[
            Channel(
                channel_id=row["channel_id"], name=row["name"] or "", questions=row["questions"]
            )
            for row in channels
        ],
        unpriced_models=sorted(unpriced),
    )
