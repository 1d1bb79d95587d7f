"""Questions, their answers, sources, agent runs and votes, for reviewers (the list's filters
are in ``question_filters.py``; the lists of every vote and every model call in
``feedback.py`` and ``agent_runs.py``).

Everything but the review fields is read-only: the record is what the asker saw. Pages run a
fixed number of queries however many rows, answers or runs there are: the changelist annotates
vote counts with correlated subqueries, and the question page prefetches answers, citations
and votes in bulk.
"""

import csv
import dataclasses
import datetime as dt
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_user_model
from django.db.models import ForeignKey, Prefetch, QuerySet, prefetch_related_objects
from django.forms import CharField, ModelChoiceField, ModelForm, Textarea
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator, smart_split, unescape_string_literal

from application.knowledge import reviewed
from chatbot.admin import agent_runs, escalations, evals, question_filters, slack_links
from chatbot.admin import reviewed as reviewed_admin
from data import models
from domain.questions import review
from domain.text import safe_markdown

REVIEW_FIELDS = ("reviewed", "reviewer", "reviewed_at", "review_note", "quality_rating")
# Not a field of the question: a reviewed answer of its own (application/knowledge/reviewed.py).
CORRECT_ANSWER = "correct_answer"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class QuestionReviewForm(ModelForm):
    """Completes the review before the form checks the model's constraints, which it does
    before ``save_model`` runs: ticked means reviewed now unless a time is given, unticked
    clears the reviewer and the time (docs/architecture.md, "Invariants in the schema")."""

    correct_answer = CharField(
        label="Correct answer",
        required=False,
        widget=Textarea(attrs={"rows": 8, "class": "vLargeTextField"}),
        help_text="Markdown. Saved as a reviewed answer the bot finds first and cites; it "
        "replaces this question's earlier one. Leave empty to change nothing.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if cleaned.get("reviewed"):
            cleaned["reviewed_at"] = cleaned.get("reviewed_at") or timezone.now()
        else:
            cleaned["reviewer"] = None
            cleaned["reviewed_at"] = None
        return cleaned


@admin.register(models.Question)
class QuestionAdmin(admin.ModelAdmin):
    form = QuestionReviewForm
    list_display = (
        "asked",
        "asker_and_channel",
        "excerpt",
        "category",
        "status",
        "latency",
        "up_votes",
        "down_votes",
        "reviewed",
    )
    list_display_links = ("asked", "excerpt")
    list_filter = (
        "status",
        "category",
        question_filters.FeedbackFilter,
        escalations.EscalationFilter,
        evals.EvalCaseFilter,
        "reviewed",
        "via",
        question_filters.ChannelFilter,
        "asked_at",
    )
    search_fields = ("text", "answers__text", "asker_name")  # see get_search_results
    search_help_text = "Searches the question, its answers and the asker's name."
    date_hierarchy = "asked_at"
    ordering = ("-asked_at", "-pk")
    list_per_page = 50
    # Counting every match of a filter on a year of data costs more than the page itself.
    show_full_result_count = False
    actions = ("mark_reviewed", "export_csv", "answer_again", evals.make_eval_case)
    inlines = (
        reviewed_admin.ReviewedAnswerInline,
        escalations.EscalationInline,
        agent_runs.AgentRunInline,
    )
    fieldsets = (
        (
            "Question",
            {
                "fields": (
                    "question_text",
                    ("asked_at", "asker", "channel"),
                    ("status", "category", "first_status", "latency"),
                    "slack_link",
                    "error",
                ),
            },
        ),
        ("Earlier in the thread", {"fields": ("thread_context",)}),
        ("Answers, as the asker saw them", {"fields": ("answers_display",)}),
        (
            "Review",
            {
                "fields": (
                    ("reviewed", "quality_rating"),
                    ("reviewer", "reviewed_at"),
                    "review_note",
                    CORRECT_ANSWER,
                ),
                "description": "Ticking “reviewed” records you as the reviewer, now, "
                "unless you pick someone else. A correct answer, once saved, is what the bot "
                "cites for questions like this one, as reviewed by you.",
            },
        ),
    )

    class Media:
        css: ClassVar[dict[str, tuple[str, ...]]] = {"all": ("chatbot/admin/admin.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.Question]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                up_votes=review.vote_count(vote=models.Feedback.Vote.UP),
                down_votes=review.vote_count(vote=models.Feedback.Vote.DOWN),
            )
        )

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> models.Question | None:
        question = super().get_object(request, object_id, from_field)
        if question is not None:
            answers = models.Answer.objects.order_by("created_at", "pk").prefetch_related(
                Prefetch("citations", queryset=models.Citation.objects.order_by("position", "pk")),
                Prefetch("feedback", queryset=models.Feedback.objects.order_by("created_at", "pk")),
            )
            prefetch_related_objects([question], Prefetch("answers", queryset=answers))
        return question

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[models.Question], search_term: str
    ) -> tuple[QuerySet[models.Question], bool]:
        """Every word must match the question, the asker or an answer; never duplicates."""
        for word in smart_split(search_term):
            if word[0] in "\"'" and word[-1] == word[0]:
                word = unescape_string_literal(word)
            queryset = queryset.filter(review.search_condition(term=word))
        return queryset, False

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """Leave out what has nothing to say (no error, no thread) to keep the page short."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        shown = []
        for title, options in fieldsets:
            if title == "Earlier in the thread" and not obj.thread_ts:
                continue
            fields = options["fields"]
            if not obj.error:
                fields = tuple(field for field in fields if field != "error")
            shown.append((title, {**options, "fields": fields}))
        return shown

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        editable = (*REVIEW_FIELDS, CORRECT_ANSWER)
        return [name for name in flatten_fieldsets(self.fieldsets) if name not in editable]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # questions come from Slack and the terminal

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "reviewer":
            kwargs["queryset"] = (
                get_user_model().objects.filter(is_staff=True).order_by("username", "pk")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: models.Question, form: Any, change: bool
    ) -> None:
        if obj.reviewed and obj.reviewer_id is None:
            obj.reviewer = request.user  # type: ignore[assignment]
        # Only the review fields: a job may be writing the status or answer meanwhile.
        obj.save(update_fields=REVIEW_FIELDS)
        if text := form.cleaned_data.get(CORRECT_ANSWER, "").strip():
            user = request.user
            full_name = getattr(user, "get_full_name", lambda: "")()
            reviewed.publish(
                question_id=obj.pk,
                text=text,
                reviewer_id=user.pk,
                reviewer_name=full_name or user.get_username(),
            )

    # Columns and read-only fields.

    @admin.display(description="asked", ordering="asked_at")
    def asked(self, question: models.Question) -> str:
        """Short enough to keep every column on screen; the year only when it is not this one."""
        asked_at = timezone.localtime(question.asked_at)
        same_year = asked_at.year == timezone.localtime().year
        return date_format(asked_at, "M j, H:i" if same_year else "M j Y, H:i")

    @admin.display(description="asker", ordering="asker_name")
    def asker(self, question: models.Question) -> str:
        return question.asker_name or question.asker_id or "—"

    @admin.display(description="asker, channel", ordering="asker_name")
    def asker_and_channel(self, question: models.Question) -> str:
        """One column for both, so the whole row fits beside the navigation and filters."""
        return format_html(
            '{}<div class="qa-muted">{}</div>', self.asker(question), self.channel(question)
        )

    @admin.display(description="channel", ordering="channel_id")
    def channel(self, question: models.Question) -> str:
        if question.via == models.Question.Channel.TERMINAL:
            return "terminal"
        return question.channel_name or question.channel_id or "—"

    @admin.display(description="question")
    def excerpt(self, question: models.Question) -> str:
        return Truncator(question.title or question.text).chars(90)

    @admin.display(description="first status after")
    def first_status(self, question: models.Question) -> str:
        if question.first_status_ms is None:
            return "—"
        return f"{question.first_status_ms / 1000:.1f} s"

    @admin.display(description="latency", ordering="latency_ms")
    def latency(self, question: models.Question) -> str:
        if question.latency_ms is None:
            return "—"
        return f"{question.latency_ms / 1000:.1f} s"

    @admin.display(description="👍", ordering="up_votes")
    def up_votes(self, question: models.Question) -> int:
        return question.up_votes  # type: ignore[attr-defined]

    @admin.display(description="👎", ordering="down_votes")
    def down_votes(self, question: models.Question) -> str:
        count: int = question.down_votes  # type: ignore[attr-defined]
        if not count:
            return "0"
        return format_html('<strong class="qa-down">{}</strong>', count)

    @admin.display(description="question")
    def question_text(self, question: models.Question) -> SafeString:
        return format_html('<div class="qa-question">{}</div>', question.text)

    @admin.display(description="in Slack")
    def slack_link(self, question: models.Question) -> str:
        url = slack_links.message_url(
            channel_id=question.channel_id,
            message_ts=question.message_ts or question.thread_ts,
            thread_ts=question.thread_ts,
        )
        if not url:
            return "—"
        return format_html('<a href="{}" target="_blank" rel="noopener">Open the message</a>', url)

    @admin.display(description="earlier questions")
    def thread_context(self, question: models.Question) -> str:
        if not question.thread_ts:
            return "—"
        earlier = list(
            models.Question.objects.filter(
                channel_id=question.channel_id,
                thread_ts=question.thread_ts,
                asked_at__lt=question.asked_at,
            )
            .order_by("asked_at", "pk")
            .only("pk", "asked_at", "asker_name", "asker_id", "text")
        )
        if not earlier:
            return "This question started the thread."
        return render_to_string(
            "chatbot/admin/thread_context.html",
            {
                "earlier": [
                    {
                        "url": reverse("admin:data_question_change", args=[item.pk]),
                        "asked_at": item.asked_at,
                        "asker": item.asker_name or item.asker_id,
                        "text": Truncator(item.text).chars(200),
                    }
                    for item in earlier
                ]
            },
        )

    @admin.display(description="answers")
    def answers_display(self, question: models.Question) -> str:
        answers = list(question.answers.all())
        if not answers:
            return "No answer yet."
        return render_to_string(
            "chatbot/admin/answers.html",
            {"answers": [_answer_context(answer) for answer in answers]},
        )

    # Actions.

    @admin.action(description="Mark selected questions as reviewed", permissions=["change"])
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[models.Question]) -> None:
        updated = models.Question.objects.filter(
            pk__in=queryset.values("pk"), reviewed=False
        ).update(reviewed=True, reviewer=request.user, reviewed_at=timezone.now())
        self.message_user(request, f"Marked {updated} question(s) as reviewed.", messages.SUCCESS)

    @admin.action(description="Export selected questions as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[models.Question]) -> HttpResponse:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="questions-{stamp}.csv"'
        response.write("\ufeff")  # a byte-order mark, so spreadsheets read UTF-8 as UTF-8
        writer = csv.writer(response)
        writer.writerow(field.name for field in dataclasses.fields(review.ExportRow))
        for row in review.export_rows(questions=queryset):
            writer.writerow(_csv_value(value) for value in dataclasses.astuple(row))
        return response

    def has_answer_again_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("data.answer_again_question")

    @admin.action(description="Answer selected questions again", permissions=["answer_again"])
    def answer_again(self, request: HttpRequest, queryset: QuerySet[models.Question]) -> None:
        from application.answering import again
        from chatbot import tasks

        question_ids = list(queryset.order_by("pk").values_list("pk", flat=True)[: again.LIMIT + 1])
        try:
            queued = again.request(question_ids=question_ids, enqueue=tasks.queue_answer_again)
        except again.TooMany as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return
        self.message_user(
            request,
            f"Queued {queued} question(s) to be answered again; "
            "new answers appear beside the old ones.",
            messages.SUCCESS,
        )


def _csv_value(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if value is None:
        return ""
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_PREFIXES):
        # Questions are typed by anyone in Slack; a spreadsheet must not run them as formulas.
        return "'" + value
    return value


def _safe_url(url: str) -> str:
    """Only web links become clickable; a stored ``javascript:`` URL must not."""
    return url if url.startswith(("https://", "http://", "/")) and not url.startswith("//") else ""


def _answer_context(answer: models.Answer) -> dict[str, Any]:
    votes = list(answer.feedback.all())
    return {
        "answer": answer,
        "html": safe_markdown.render_html(
            markdown=safe_markdown.slack_links_to_markdown(text=answer.text)
        ),
        "citations": [
            {"title": citation.title, "heading": citation.heading, "url": _safe_url(citation.url)}
            for citation in answer.citations.all()
        ],
        "votes": votes,
        "up": sum(vote.vote == models.Feedback.Vote.UP for vote in votes),
        "down": sum(vote.vote == models.Feedback.Vote.DOWN for vote in votes),
        "slack_url": slack_links.message_url(
            channel_id=answer.slack_channel_id, message_ts=answer.slack_message_ts
        ),
    }
