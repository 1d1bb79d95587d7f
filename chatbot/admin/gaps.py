"""The coverage gaps report: topics of questions not covered or disliked, with CSV export.

Reached from the dashboard (``/admin/gaps/``). The CSV is streamed row by row
(``StreamingHttpResponse``), never built in memory.
"""

import csv
import datetime as dt
from collections.abc import Iterator

from asgiref.sync import async_to_sync
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from chatbot.admin import dashboard
from domain.knowledge import search
from domain.questions import gaps

CLOSEST_DOCUMENTS = 3


class _Echo:
    """A file-like object whose write hands the line back, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def view(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    if not request.user.has_perm("data.view_question"):
        raise PermissionDenied
    period = dashboard.period_days(request)
    end = timezone.localtime(timezone.now()).replace(
        hour=0, minute=0, second=0, microsecond=0
    ) + dt.timedelta(days=1)
    start = end - dt.timedelta(days=period)
    topics = gaps.topics(start=start, end=end)
    closest = {
        topic.term: async_to_sync(search.search)(query=topic.term, limit=CLOSEST_DOCUMENTS)
        for topic in topics
    }
    if request.GET.get("format") == "csv":
        names = {
            term: [f"{hit.title} > {hit.heading_path} <{hit.url}>" for hit in hits]
            for term, hits in closest.items()
        }
        writer = csv.writer(_Echo())
        lines: Iterator[str] = (
            writer.writerow([_csv_value(cell) for cell in row])
            for row in gaps.csv_rows(topics=topics, closest=names)
        )
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="coverage-gaps-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
        )
        return response
    questions = reverse("admin:data_question_changelist")
    return TemplateResponse(
        request,
        "chatbot/admin/gaps.html",
        {
            **admin.site.each_context(request),
            "title": f"Coverage gaps, last {period} days",
            "topics": [(topic, closest[topic.term]) for topic in topics],
            "periods": [(days, days == period) for days in dashboard.PERIODS],
            "question_url": questions,
            "csv_url": f"?days={period}&format=csv",
        },
    )


def _csv_value(value: str) -> str:
    """Cells a spreadsheet would run as a formula get a leading quote."""
    return "'" + value if value.lstrip()[:1] in {"=", "+", "-", "@"} else value
