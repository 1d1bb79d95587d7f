""" "Ask a person" requests, for the people who answer them: open ones first, each with its
question and thread, and actions to mark them answered or closed."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from application.knowledge import reviewed
from chatbot.admin import slack_links
from data import models


class EscalationFilter(admin.SimpleListFilter):
    """Questions whose asker (or a colleague) asked for a person."""

    title = "asked for a person"
    parameter_name = "escalation"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("open", "Open"), ("any", "Any"), ("none", "Never")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[models.Question]
    ) -> QuerySet[models.Question]:
        escalations = models.Escalation.objects.filter(question=OuterRef("pk"))
        match self.value():
            case "open":
                return queryset.filter(
                    Exists(escalations.filter(state=models.Escalation.State.OPEN))
                )
            case "any":
                return queryset.filter(Exists(escalations))
            case "none":
                return queryset.filter(~Exists(escalations))
        return queryset


class EscalationInline(admin.TabularInline):
    model = models.Escalation
    fk_name = "question"
    extra = 0
    can_delete = False
    verbose_name = "request for a person"
    verbose_name_plural = "requests for a person"
    fields = (
        "requested_at",
        "requested_by",
        "target_channel_id",
        "state",
        "notified_at",
        "answered_by",
        "person_answer",
    )
    readonly_fields = fields
    classes = ("compact-inline",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = (
        "requested_at",
        "state",
        "question_link",
        "requested_by",
        "target_channel_id",
        "posted",
        "person_answer_excerpt",
        "thread_link",
    )
    list_filter = ("state", "target_channel_id", "requested_at")
    search_fields = ("question__text", "=requested_by")
    date_hierarchy = "requested_at"
    ordering = ("-requested_at", "-pk")
    list_select_related = ("question",)
    show_full_result_count = False
    actions = ("mark_answered", "mark_closed", "make_reviewed_answer")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("data.resolve_escalation")

    @admin.display(description="question")
    def question_link(self, escalation: models.Escalation) -> str:
        question = escalation.question
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:data_question_change", args=[question.pk]),
            Truncator(question.title or question.text).chars(90),
        )

    @admin.display(description="a person's answer")
    def person_answer_excerpt(self, escalation: models.Escalation) -> str:
        if not escalation.answered_by:
            return "—"
        return f"{escalation.answered_by}: {Truncator(escalation.person_answer).chars(80)}"

    @admin.display(description="posted", boolean=True)
    def posted(self, escalation: models.Escalation) -> bool:
        return bool(escalation.notified_ts)

    @admin.display(description="thread")
    def thread_link(self, escalation: models.Escalation) -> str:
        question = escalation.question
        url = slack_links.message_url(channel_id=question.channel_id, message_ts=question.thread_ts)
        return (
            format_html('<a href="{}" target="_blank" rel="noopener">open in Slack</a>', url)
            if url
            else ""
        )

    def _set_state(
        self, request: HttpRequest, queryset: QuerySet[models.Escalation], state: str
    ) -> None:
        updated = queryset.exclude(state=state).update(state=state)
        self.message_user(
            request, f"{updated} request(s) marked {state.lower()}.", messages.SUCCESS
        )

    @admin.action(description="Mark answered by a person", permissions=["resolve"])
    def mark_answered(self, request: HttpRequest, queryset: QuerySet[models.Escalation]) -> None:
        self._set_state(request, queryset, models.Escalation.State.ANSWERED)

    @admin.action(description="Mark closed", permissions=["resolve"])
    def mark_closed(self, request: HttpRequest, queryset: QuerySet[models.Escalation]) -> None:
        self._set_state(request, queryset, models.Escalation.State.CLOSED)

    @admin.action(
        description="Make the person's answer the reviewed answer", permissions=["resolve"]
    )
    def make_reviewed_answer(
        self, request: HttpRequest, queryset: QuerySet[models.Escalation]
    ) -> None:
        user = request.user
        name = getattr(user, "get_full_name", lambda: "")() or user.get_username()
        made = 0
        for escalation in queryset.exclude(person_answer="").exclude(question__isnull=True):
            reviewed.publish(
                question_id=escalation.question_id,
                text=escalation.person_answer,
                reviewer_id=user.pk,
                reviewer_name=name,
            )
            made += 1
        self.message_user(
            request,
            f"{made} reviewed answer(s) made; requests without a person's answer were skipped.",
            messages.SUCCESS,
        )
