"""Every 👍/👎, newest first, with a 👎's reason and comment."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from data import models


@admin.register(models.Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    """Every vote, newest first, to follow what people think of the answers."""

    list_display = (
        "updated_at",
        "vote",
        "reason",
        "comment_excerpt",
        "slack_user_id",
        "question_link",
    )
    list_filter = ("vote", "reason", "updated_at")
    search_fields = ("answer__question__text", "comment", "=slack_user_id")
    date_hierarchy = "updated_at"
    ordering = ("-updated_at", "-pk")
    list_select_related = ("answer__question",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="comment")
    def comment_excerpt(self, feedback: models.Feedback) -> str:
        return Truncator(feedback.comment).chars(90)

    @admin.display(description="question")
    def question_link(self, feedback: models.Feedback) -> str:
        question = feedback.answer.question
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:data_question_change", args=[question.pk]),
            Truncator(question.title or question.text).chars(90),
        )
