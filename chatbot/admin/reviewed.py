"""Reviewed answers: what the bot cites as reviewed, and their history; reviewers retire them."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from application.knowledge import reviewed
from data import models


class ReviewedAnswerInline(admin.TabularInline):
    model = models.ReviewedAnswer
    fk_name = "question"
    extra = 0
    can_delete = False
    verbose_name = "reviewed answer"
    fields = ("created_at", "reviewer_name", "text", "retired_at")
    readonly_fields = fields
    ordering = ("-created_at",)
    classes = ("compact-inline",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.ReviewedAnswer)
class ReviewedAnswerAdmin(admin.ModelAdmin):
    list_display = ("created_at", "in_force", "reviewer_name", "question_link", "excerpt")
    list_filter = ("retired_at", "created_at")
    search_fields = ("question_text", "text", "reviewer_name")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    actions = ("retire",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written on the question's page, where its context is

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_retire_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("data.change_question")

    @admin.display(description="in force", boolean=True)
    def in_force(self, answer: models.ReviewedAnswer) -> bool:
        return answer.retired_at is None

    @admin.display(description="question")
    def question_link(self, answer: models.ReviewedAnswer) -> str:
        label = Truncator(answer.question_text).chars(80)
        if answer.question_id is None:
            return label
        url = reverse("admin:data_question_change", args=[answer.question_id])
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="answer")
    def excerpt(self, answer: models.ReviewedAnswer) -> str:
        return Truncator(answer.text).chars(100)

    @admin.action(description="Retire (the bot stops citing them)", permissions=["retire"])
    def retire(self, request: HttpRequest, queryset: QuerySet[models.ReviewedAnswer]) -> None:
        count = reviewed.retire(reviewed_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Retired {count} reviewed answer(s).", messages.SUCCESS)
