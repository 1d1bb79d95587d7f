"""Model calls: inline on a question's page, and the list of every one, to spot errors,
timeouts and costly answers across questions."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from data import models


class AgentRunInline(admin.TabularInline):
    model = models.AgentRun
    fk_name = "question"
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name = "agent run"
    fields = (
        "started_at",
        "agent",
        "model",
        "input_tokens",
        "output_tokens",
        "latency_ms",
        "outcome",
        "error",
    )
    readonly_fields = fields
    classes = ("agent-runs", "compact-inline")

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.AgentRun]:
        return super().get_queryset(request).order_by("started_at", "pk")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.AgentRun)
class AgentRunAdmin(admin.ModelAdmin):
    """Every model call, to spot errors, timeouts and costly answers across questions."""

    list_display = (
        "started_at",
        "agent",
        "model",
        "outcome",
        "latency_ms",
        "input_tokens",
        "output_tokens",
        "run_for",
    )
    list_filter = ("outcome", "agent", "model", "started_at")
    search_fields = ("error", "=model")
    date_hierarchy = "started_at"
    ordering = ("-started_at", "-pk")
    show_full_result_count = False
    raw_id_fields = ("question", "release_notes")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="for")
    def run_for(self, run: models.AgentRun) -> str:
        """A link by id, so the list needs no join to show what the run was for."""
        if run.question_id is not None:
            url = reverse("admin:data_question_change", args=[run.question_id])
            return format_html('<a href="{}">question {}</a>', url, run.question_id)
        if run.release_notes_id is not None:
            url = reverse("admin:data_releasenotes_change", args=[run.release_notes_id])
            return format_html('<a href="{}">release notes {}</a>', url, run.release_notes_id)
        return "—"
