"""The dashboard on the admin index: outcomes per day, votes, latency, cost, channels."""

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from data import models
from domain.questions import dashboard
from tests import admin_support, factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PRICES = {"openai:gpt-5-mini": (Decimal("0.25"), Decimal("2"))}


def _at(days_ago: int, hour: int = 10) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def _question(*, days_ago: int, status: str = "ANSWERED", latency_ms: int | None = 1000, **fields):
    return factories.QuestionFactory.create(
        asked_at=_at(days_ago), status=status, latency_ms=latency_ms, **fields
    )


def test_the_figures_per_day_votes_cost_and_channels():
    answered = _question(
        days_ago=1,
        latency_ms=1000,
        first_status_ms=300,
        channel_id="C1",
        channel_name="#deploys",
    )
    _question(
        days_ago=1, latency_ms=3000, first_status_ms=900, channel_id="C1", channel_name="#deploys"
    )
    _question(days_ago=1, status="NOT_COVERED", latency_ms=2000, channel_id="C2")
    failed = _question(
        days_ago=0, status="FAILED", latency_ms=None, error="model down", channel_id=""
    )
    _question(days_ago=40, channel_id="C1")  # outside the period
    models.Escalation.objects.create(
        question=failed, requested_by="U1", target_channel_id="CHELP", requested_at=_at(0, 11)
    )
    answer = factories.AnswerFactory.create(question=answered)
    factories.FeedbackFactory.create(answer=answer, vote="UP")
    factories.FeedbackFactory.create(answer=answer, vote="DOWN")
    factories.AgentRunFactory.create(
        question=answered,
        model="openai:gpt-5-mini",
        input_tokens=1_000_000,
        output_tokens=500_000,
        started_at=_at(1, 10),
    )
    factories.AgentRunFactory.create(
        question=answered, model="local:llama", input_tokens=10, output_tokens=10, started_at=_at(1)
    )

    today = timezone.localdate()
    figures = dashboard.dashboard(start=today - dt.timedelta(days=6), end=today, prices=PRICES)

    assert len(figures.days) == 7
    yesterday, last = figures.days[-2], figures.days[-1]
    assert (yesterday.answered, yesterday.not_covered, yesterday.failed) == (2, 1, 0)
    assert (yesterday.p50_ms, yesterday.p95_ms) == (2000.0, 2900.0)
    assert (yesterday.status_p50_ms, yesterday.status_p95_ms) == (600.0, 870.0)
    assert (last.failed, last.escalated, last.p50_ms) == (1, 1, None)
    assert yesterday.cost == Decimal("0.25") + Decimal("1.00")
    assert yesterday.input_tokens == 1_000_010
    assert figures.unpriced_models == ["local:llama"]
    assert (figures.up_votes, figures.down_votes) == (1, 1)
    assert [(c.channel_id, c.name, c.questions) for c in figures.channels] == [
        ("C1", "#deploys", 2),
        ("C2", "", 1),
    ]


def test_the_index_draws_the_charts_with_links_to_the_filtered_list(client):
    _question(days_ago=1, status="NOT_COVERED")
    reviewer = admin_support.logged_in_client(admin_support.make_reviewer())

    page = reviewer.get("/admin/?days=7").content.decode()

    assert "Dashboard: the last 7 days" in page
    assert page.count('<svg class="qa-chart"') == 4
    assert "Time to the first status" in page
    assert ">1.0 s</text>" in page  # the time-to-answer chart's scale: its highest value
    assert "status__exact=NOT_COVERED" in page
    assert "1 not covered on" in page  # the bar's tooltip
    assert "set CHATBOT_MODEL_PRICES for cost" in page


def test_the_dashboard_runs_a_fixed_number_of_queries_whatever_the_data():
    reviewer = admin_support.logged_in_client(admin_support.make_reviewer())

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert reviewer.get("/admin/?days=90").status_code == 200
        return len(captured)

    few = queries()
    now = timezone.now()
    models.Question.objects.bulk_create(
        models.Question(
            text=f"question {n}",
            asked_at=now - dt.timedelta(minutes=13 * n),
            status="ANSWERED" if n % 3 else "NOT_COVERED",
            answered_at=now,
            latency_ms=1000 + n % 5000,
            channel_id=f"C{n % 40}",
        )
        for n in range(10_000)
    )

    assert queries() == few


def test_prices_that_cannot_be_read_give_one_line():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": "/tmp",
            "DJANGO_DEBUG": "true",
            "CHATBOT_MODEL_PRICES": "openai:gpt-5-mini=cheap",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("chatbot: CHATBOT_MODEL_PRICES: 'openai:gpt-5-mini=cheap'")
