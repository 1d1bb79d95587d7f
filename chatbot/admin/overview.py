"""The overview at the top of the admin index: how the bot did today and this week.

The index view is Django's own, so the numbers come in through a template tag
(``{% question_overview %}``, in ``chatbot.templatetags.admin_overview``), which reads the
clock here, at the edge, and asks the domain for the figures.
"""

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from domain.questions import review


def context(*, request: HttpRequest) -> dict[str, Any]:
    """The overview for users who may see questions; nothing for everyone else."""
    if not request.user.has_perm("data.view_question"):
        return {"overview": None}
    now = timezone.now()
    figures = review.overview(now=now)
    changelist = reverse("admin:data_question_changelist")
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "overview": figures,
        "today_url": period_url(changelist, start=today, end=today + dt.timedelta(days=1)),
        "last_7_days_url": period_url(changelist, start=now - review.OVERVIEW_WINDOW, end=now),
        "down_voted_url": f"{changelist}?feedback=down",
        "not_covered_url": f"{changelist}?status__exact=NOT_COVERED",
        "unreviewed_url": f"{changelist}?reviewed__exact=0",
        "p50_latency_s": (
            None if figures.p50_latency_ms is None else figures.p50_latency_ms / 1000
        ),
        "category_url": f"{changelist}?category__exact=",
        "categories_total": sum(row.count for row in figures.top_categories),
    }


def period_url(changelist: str, *, start: dt.datetime, end: dt.datetime, **filters: str) -> str:
    """The changelist filtered like the "asked at" date filter does (and by ``filters``)."""
    period = {"asked_at__gte": str(start), "asked_at__lt": str(end)}
    return f"{changelist}?{urlencode({**period, **filters})}"
