"""Evals in the admin: eval cases (made from questions, 👎 ones proposed), and the runs of
``manage.py eval`` with their table and the comparison with an earlier run."""

from typing import Any, ClassVar

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from application.evals import cases as eval_cases
from chatbot import eval_report
from data import models
from domain.evals import cases as cases_module
from domain.evals import comparison, records, scoring

PROPOSED = "proposed"
PROPOSED_SHOWN = 1000


class EvalCaseFilter(admin.SimpleListFilter):
    """On the question list: questions people gave a 👎 that are not eval cases yet."""

    title = "eval case"
    parameter_name = "eval"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(PROPOSED, "Proposed (👎, not a case yet)"), ("case", "Is an eval case")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[models.Question]
    ) -> QuerySet[models.Question]:
        match self.value():
            case "proposed":
                return queryset.filter(records.proposed_condition())
            case "case":
                return queryset.filter(records.is_eval_case())
        return queryset


@admin.action(description="Make eval case", permissions=["change"])
def make_eval_case(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[models.Question]
) -> None:
    """Questions become eval cases (their text); the reviewer adds gold sources and facts."""
    made = eval_cases.make(
        question_ids=list(queryset.values_list("pk", flat=True)), created_by_id=request.user.pk
    )
    url = reverse("admin:data_evalcase_changelist")
    modeladmin.message_user(
        request,
        format_html(
            'Made {} eval case(s); add what each must find and say in <a href="{}">Eval cases</a>.',
            made,
            url,
        ),
        messages.SUCCESS,
    )


class LinesField(forms.CharField):
    """A list of strings edited as lines of text."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 80})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [line.strip() for line in str(text).splitlines() if line.strip()]


class EvalCaseForm(forms.ModelForm):
    gold_sources = LinesField(
        required=False,
        help_text="Documents that answer it, one per line: a path (admin.md) or a title.",
    )
    required_facts = LinesField(
        required=False,
        help_text="What the answer must say, one per line (any case); re:PATTERN for a "
        "regular expression.",
    )

    class Meta:
        model = models.EvalCase
        fields = ("text", "gold_sources", "required_facts", "expect_not_covered", "active", "note")

    def clean_required_facts(self) -> list[str]:
        facts: list[str] = self.cleaned_data["required_facts"]
        problems = [problem for fact in facts if (problem := cases_module.fact_error(fact))]
        if problems:
            raise forms.ValidationError(problems)
        return facts


@admin.register(models.EvalCase)
class EvalCaseAdmin(admin.ModelAdmin):
    form = EvalCaseForm
    list_display = ("excerpt", "gold", "facts", "expect_not_covered", "active", "question_link")
    list_filter = ("active", "expect_not_covered")
    search_fields = ("text",)
    ordering = ("-pk",)
    fields = (
        "text",
        "gold_sources",
        "required_facts",
        "expect_not_covered",
        "active",
        "note",
        "question_link",
    )
    readonly_fields = ("question_link",)
    change_list_template = "chatbot/admin/eval_cases.html"

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # Bounded: counting every 👎 question of years of data costs more than the page.
        found = models.Question.objects.filter(records.proposed_condition())[:PROPOSED_SHOWN]
        count = found.count()
        proposed = f"{count}+" if count == PROPOSED_SHOWN else str(count)
        url = reverse("admin:data_question_changelist") + f"?eval={PROPOSED}"
        return super().changelist_view(
            request, {**(extra_context or {}), "proposed": proposed, "proposed_url": url}
        )

    def save_model(
        self, request: HttpRequest, obj: models.EvalCase, form: Any, change: bool
    ) -> None:
        if not change:
            obj.created_at = timezone.now()
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)

    @admin.display(description="question", ordering="text")
    def excerpt(self, case: models.EvalCase) -> str:
        return Truncator(case.text).chars(90)

    @admin.display(description="gold sources")
    def gold(self, case: models.EvalCase) -> str:
        return ", ".join(case.gold_sources) or "-"

    @admin.display(description="required facts")
    def facts(self, case: models.EvalCase) -> str:
        return ", ".join(case.required_facts) or "-"

    @admin.display(description="made from")
    def question_link(self, case: models.EvalCase) -> str:
        if case.question_id is None:
            return "-"
        url = reverse("admin:data_question_change", args=[case.question_id])
        return format_html('<a href="{}">question {}</a>', url, case.question_id)


def _rows(
    results: tuple[scoring.CaseResult, ...], compared: comparison.Comparison | None
) -> list[dict[str, Any]]:
    changes = {change.key: change for change in compared.changes} if compared else {}
    return [
        {
            "number": number,
            "result": result,
            "hit": eval_report.hit_cell(result),
            "facts": eval_report.facts_cell(result),
            "coverage": eval_report.coverage_cell(result),
            "change": eval_report.change_cell(changes.get(result.key)) if compared else "",
            "regressed": bool(changes.get(result.key) and changes[result.key].regressed),
        }
        for number, result in enumerate(results, start=1)
    ]


@admin.register(models.EvalRun)
class EvalRunAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "set_name",
        "model",
        "git_commit",
        "passed",
        "hit_rate",
        "tokens",
        "latency",
        "baseline",
    )
    list_display_links = ("started_at",)
    list_filter = ("set_name", "model")
    ordering = ("-started_at", "-pk")
    date_hierarchy = "started_at"
    change_form_template = "chatbot/admin/eval_run.html"

    class Media:
        css: ClassVar[dict[str, tuple[str, ...]]] = {"all": ("chatbot/admin/admin.css",)}

    fields = (
        ("started_at", "finished_at"),
        ("set_name", "git_commit"),
        ("model", "grader_model", "k"),
        "settings_display",
    )
    readonly_fields = ("settings_display",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs come from manage.py eval

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="settings")
    def settings_display(self, run: models.EvalRun) -> str:
        """What the run ran with, one setting a line (the knowledge base's size among them)."""
        items = [
            (name, ", ".join(f"{key} {item}" for key, item in value.items()))
            if isinstance(value, dict)
            else (name, value)
            for name, value in sorted(run.settings_summary.items())
        ]
        return format_html_join(mark_safe("<br>"), "{}: {}", items)

    @admin.display(description="passed", ordering="passed_count")
    def passed(self, run: models.EvalRun) -> str:
        return f"{run.passed_count}/{run.case_count}"

    @admin.display(description="hit@k")
    def hit_rate(self, run: models.EvalRun) -> str:
        if not run.gold_count:
            return "-"
        return f"{run.hit_count}/{run.gold_count} @{run.k}"

    @admin.display(description="tokens in/out")
    def tokens(self, run: models.EvalRun) -> str:
        return f"{run.input_tokens}/{run.output_tokens}"

    @admin.display(description="latency", ordering="latency_ms")
    def latency(self, run: models.EvalRun) -> str:
        return f"{run.latency_ms / 1000:.1f} s"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        try:
            run = async_to_sync(records.stored_run)(run_id=int(object_id))
        except (ValueError, records.RunNotFound):
            return super().change_view(request, object_id, form_url, extra_context)
        baseline_id = self._baseline_id(request, run)
        compared = None
        if baseline_id is not None:
            try:
                baseline = async_to_sync(records.stored_run)(run_id=baseline_id)
            except records.RunNotFound:
                self.message_user(request, f"There is no eval run {baseline_id}.", messages.ERROR)
            else:
                compared = comparison.compare(
                    baseline_run_id=baseline.id, before=baseline.results, now=run.results
                )
        earlier = models.EvalRun.objects.filter(started_at__lt=run.started_at).order_by(
            "-started_at", "-pk"
        )[:50]
        context.update(
            {
                "run": run,
                "totals": scoring.totals(results=run.results),
                "rows": _rows(run.results, compared),
                "compared": compared,
                "comparison_lines": (
                    eval_report.comparison_lines(compared, k=run.k, results=run.results)
                    if compared
                    else []
                ),
                "earlier_runs": [
                    (pk, f"run {pk}: {name} ({started:%Y-%m-%d %H:%M})", pk == baseline_id)
                    for pk, name, started in earlier.values_list("pk", "set_name", "started_at")
                ],
            }
        )
        return super().change_view(request, object_id, form_url, context)

    def _baseline_id(self, request: HttpRequest, run: records.StoredRun) -> int | None:
        """The run asked for (``?compare=``), else the one it was run against, else the
        previous run of the same set."""
        asked = request.GET.get("compare", "")
        if asked == "none":
            return None
        if asked:
            try:
                return int(asked)
            except ValueError:
                self.message_user(request, f"{asked!r} is not a run number.", messages.ERROR)
                return None
        if run.baseline_id is not None:
            return run.baseline_id
        return async_to_sync(records.earlier_run_id)(run_id=run.id)
