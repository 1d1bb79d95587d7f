"""The dashboard on the admin index: questions by outcome, votes, latency, cost and the
busiest channels over a period the reviewer picks (``?days=7|30|90``). Every figure links to
the question list filtered the same way."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone

from chatbot.admin import charts, overview
from domain.questions import dashboard

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30


def period_days(request: HttpRequest) -> int:
    """The period asked for (``?days=``), or the default for anything not offered."""
    try:
        days = int(request.GET.get("days", DEFAULT_PERIOD))
    except ValueError:
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def _day_url(changelist: str, day: dt.date, **filters: str) -> str:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())
    return overview.period_url(changelist, start=start, end=start + dt.timedelta(days=1), **filters)


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def _dollars(value: float) -> str:
    return f"${value:,.2f}"


def _tokens(value: float) -> str:
    return f"{value:,.0f} tokens"


def _latency_lines(
    days: list[dashboard.Day], *, changelist: str, prefix: str
) -> list[tuple[str, list[charts.Point]]]:
    """The p50 and p95 lines of one latency (``prefix`` picks which), in seconds."""
    return [
        (
            f"qa-line--{name}",
            [
                charts.Point(
                    value=None if value is None else value / 1000,
                    label=f"{name} {value / 1000:.1f} s on {formats.date_format(day.day, 'M j')}"
                    if value is not None
                    else "",
                    url=_day_url(changelist, day.day),
                )
                for day, value in ((day, getattr(day, f"{prefix}{name}_ms")) for day in days)
            ],
        )
        for name in ("p50", "p95")
    ]


def context(*, request: HttpRequest) -> dict[str, Any]:
    if not request.user.has_perm("data.view_question"):
        return {"dashboard": None}
    days = period_days(request)
    end = timezone.localdate()
    figures = dashboard.dashboard(
        start=end - dt.timedelta(days=days - 1), end=end, prices=settings.MODEL_PRICES
    )
    changelist = reverse("admin:data_question_changelist")
    outcomes = []
    for day in figures.days:
        shown = formats.date_format(day.day, "M j")
        outcomes.append(
            [
                charts.Segment(
                    value=count,
                    label=f"{count} {label} on {shown}",
                    css=f"qa-bar--{css}",
                    url=_day_url(changelist, day.day, **filters),
                )
                for count, label, css, filters in (
                    (day.answered, "answered", "answered", {"status__exact": "ANSWERED"}),
                    (
                        day.not_covered,
                        "not covered",
                        "not-covered",
                        {"status__exact": "NOT_COVERED"},
                    ),
                    (day.failed, "failed", "failed", {"status__exact": "FAILED"}),
                    (day.other, "other", "other", {}),
                )
            ]
        )
    latency = _latency_lines(figures.days, changelist=changelist, prefix="")
    first_status = _latency_lines(figures.days, changelist=changelist, prefix="status_")
    cost_bars = [
        [
            charts.Segment(
                value=float(day.cost)
                if settings.MODEL_PRICES
                else day.input_tokens + day.output_tokens,
                label=f"${day.cost:.2f}, {day.input_tokens + day.output_tokens:,} tokens on "
                f"{formats.date_format(day.day, 'M j')}",
                css="qa-bar--cost",
                url=_day_url(changelist, day.day),
            )
        ]
        for day in figures.days
    ]
    votes = figures.up_votes + figures.down_votes
    return {
        "dashboard": figures,
        "periods": PERIODS,
        "days": days,
        "outcomes_chart": charts.stacked_bars(outcomes, title="Questions per day by outcome"),
        "latency_chart": charts.lines(latency, title="Time to answer, p50 and p95", axis=_seconds),
        "first_status_chart": charts.lines(
            first_status, title="Time to the first status, p50 and p95", axis=_seconds
        ),
        "cost_chart": charts.stacked_bars(
            cost_bars,
            title="Estimated cost per day" if settings.MODEL_PRICES else "Model tokens per day",
            axis=_dollars if settings.MODEL_PRICES else _tokens,
        ),
        "total_questions": sum(day.total for day in figures.days),
        "escalated": sum(day.escalated for day in figures.days),
        "escalated_url": f"{changelist}?escalation=any",
        "up_percent": round(100 * figures.up_votes / votes) if votes else None,
        "up_url": f"{changelist}?feedback=up",
        "down_url": f"{changelist}?feedback=down",
        "tokens": sum(day.input_tokens + day.output_tokens for day in figures.days),
        "cost": figures.cost if settings.MODEL_PRICES else None,
        "zero": Decimal(0),
        "channel_url": f"{changelist}?channel=",
        "gaps_url": f"{reverse('coverage_gaps')}?days={days}",
    }
