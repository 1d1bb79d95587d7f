"""Evals: questions with known right answers, run through the answer pipeline, and the results.

An ``EvalCase`` is a question kept as a test (made from a question in the admin, usually one
people gave a 👎); an ``EvalRun`` is one ``manage.py eval`` with its settings, and its
``EvalResult`` rows hold each case's figures, so a later run can be compared with it.
"""

from django.conf import settings
from django.db import models


class EvalCase(models.Model):
    """A question the bot should keep answering right: what it must find, and what it must say."""

    question = models.ForeignKey(
        "data.Question",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="eval_cases",
        help_text="The question it was made from, if any.",
    )
    text = models.TextField(help_text="The question as the eval asks it.")
    gold_sources = models.JSONField(
        default=list,
        blank=True,
        help_text="Documents that answer it: paths (e.g. admin.md) or titles, one per line.",
    )
    required_facts = models.JSONField(
        default=list,
        blank=True,
        help_text="Words the answer must contain (case-insensitive), one per line; "
        "re:PATTERN for a regular expression.",
    )
    expect_not_covered = models.BooleanField(
        default=False, help_text="The documentation does not cover it: the bot should say so."
    )
    active = models.BooleanField(default=True, help_text="Run by manage.py eval --from-admin.")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "eval case"
        constraints = [
            models.CheckConstraint(condition=~models.Q(text=""), name="eval_case_has_text"),
            # One case per question: making it again is a no-op, not a duplicate that counts twice.
            models.UniqueConstraint(fields=["question"], name="eval_case_one_per_question"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class EvalRun(models.Model):
    """One run of a question set through the answer pipeline, with what it ran on."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    set_name = models.CharField(max_length=500, help_text="The file, or “admin” for eval cases.")
    git_commit = models.CharField(max_length=64, blank=True)
    model = models.CharField(max_length=200)
    grader_model = models.CharField(max_length=200, blank=True)
    k = models.PositiveSmallIntegerField(help_text="hit@k: a gold source among the first k found.")
    settings_summary = models.JSONField(default=dict, blank=True)
    case_count = models.PositiveIntegerField()
    passed_count = models.PositiveIntegerField()
    hit_count = models.PositiveIntegerField(
        help_text="Cases with a gold source found in the top k."
    )
    gold_count = models.PositiveIntegerField(help_text="Cases that name gold sources.")
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0, help_text="Sum over the cases.")
    baseline = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The earlier run it was compared with (--compare).",
    )

    class Meta:
        verbose_name = "eval run"
        indexes = [models.Index(fields=["started_at", "id"], name="eval_run_started_at_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(passed_count__lte=models.F("case_count"))
                & models.Q(hit_count__lte=models.F("gold_count"))
                & models.Q(gold_count__lte=models.F("case_count")),
                name="eval_run_counts_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"eval run {self.pk} ({self.set_name})"


class EvalResult(models.Model):
    """One case's figures in one run; ``key`` identifies the case across runs."""

    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveIntegerField()
    key = models.CharField(max_length=500)
    eval_case = models.ForeignKey(
        EvalCase, null=True, blank=True, on_delete=models.SET_NULL, related_name="results"
    )
    question = models.TextField()
    gold_sources = models.JSONField(default=list)
    required_facts = models.JSONField(default=list)
    expect_not_covered = models.BooleanField(default=False)
    retrieved = models.JSONField(default=list, help_text="Documents search found, best first.")
    hit_rank = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Rank of the first gold source found (1 = first)."
    )
    missing_facts = models.JSONField(default=list)
    grade = models.FloatField(null=True, blank=True, help_text="The grading model's 0-1 score.")
    covered = models.BooleanField(null=True, help_text="Whether the answer said it was covered.")
    passed = models.BooleanField()
    answer = models.TextField(blank=True)
    error = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField()
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    grading_tokens = models.PositiveIntegerField(
        default=0, help_text="What the grading model used (input and output)."
    )

    class Meta:
        verbose_name = "eval result"
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="eval_result_unique_position"),
            models.CheckConstraint(
                condition=models.Q(grade__isnull=True) | models.Q(grade__gte=0, grade__lte=1),
                name="eval_result_grade_0_to_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} in run {self.run_id}"
