"""Questions asked in Slack (or the terminal), their answers, citations and agent runs."""

from typing import TypeAlias

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper

from data.models.inbox import SlackEvent

# The choices live outside their models because a model's Meta cannot see its class body, and
# the constraints need their values. Use them as Question.Status and so on: each model names
# its choices with a TypeAlias, since `type X = ...` makes an alias object without the members.


class _QuestionStatus(models.TextChoices):
    RECEIVED = "RECEIVED"
    PROCESSING = "PROCESSING"
    ANSWERED = "ANSWERED"
    # Delivered, but the documentation did not cover it (the answer says so): a gap to fill.
    NOT_COVERED = "NOT_COVERED", "Not covered"
    UNDELIVERED = "UNDELIVERED"
    FAILED = "FAILED"
    # Not answered, and the asker was told why (the error says which limit).
    LIMITED = "LIMITED", "Over a limit"
    EXTERNAL = "EXTERNAL", "External user"


class _QuestionCategory(models.TextChoices):
    HOW_TO = "HOW_TO", "How-to"
    TROUBLESHOOTING = "TROUBLESHOOTING"
    CONCEPT = "CONCEPT"
    POLICY = "POLICY"
    ACCESS = "ACCESS"
    OTHER = "OTHER"


class _QuestionChannel(models.TextChoices):
    SLACK = "SLACK"
    TERMINAL = "TERMINAL"


class _AgentRunOutcome(models.TextChoices):
    OK = "OK"
    ERROR = "ERROR"
    TIMEOUT = "TIMEOUT"
    INVALID_OUTPUT = "INVALID_OUTPUT"
    FALLBACK = "FALLBACK"


_FAILED_RUN_OUTCOMES = [
    _AgentRunOutcome.ERROR,
    _AgentRunOutcome.TIMEOUT,
    _AgentRunOutcome.INVALID_OUTPUT,
]


class Question(models.Model):
    Status: TypeAlias = _QuestionStatus  # noqa: UP040
    Category: TypeAlias = _QuestionCategory  # noqa: UP040
    Channel: TypeAlias = _QuestionChannel  # noqa: UP040

    slack_event = models.OneToOneField(
        SlackEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="question"
    )
    via = models.CharField(max_length=20, choices=Channel.choices, default=Channel.SLACK)
    team_id = models.CharField(max_length=50, blank=True)
    channel_id = models.CharField(max_length=50, blank=True)
    channel_name = models.CharField(
        max_length=200, blank=True, help_text="As Slack named it when the question was asked."
    )
    thread_ts = models.CharField(
        max_length=50, blank=True, help_text="The Slack thread the question belongs to."
    )
    message_ts = models.CharField(max_length=50, blank=True)
    asker_id = models.CharField(max_length=50, blank=True)
    asker_name = models.CharField(max_length=200, blank=True)
    private = models.BooleanField(
        default=False, help_text="Answered only to the asker (/ask), until they share it."
    )
    text = models.TextField()
    title = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=30, choices=Category.choices, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    asked_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    first_status_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="From the question to the first status the asker saw."
    )

    reviewed = models.BooleanField(default=False)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviewed_questions",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    quality_rating = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="1 (poor) to 5 (excellent)."
    )
    forgotten_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its texts and people were removed (CHATBOT_RETENTION_DAYS); its "
        "outcome, timings, votes and costs stay for the figures.",
    )

    class Meta:
        indexes = [
            models.Index(fields=["asked_at", "id"], name="question_asked_at_idx"),
            models.Index(fields=["status"], name="question_status_idx"),
            models.Index(fields=["channel_id", "thread_ts"], name="question_thread_idx"),
            # Admin search: Django's icontains is UPPER(text) LIKE, which this index serves.
            GinIndex(OpClass(Upper("text"), name="gin_trgm_ops"), name="question_text_search_trgm"),
        ]
        # docs/architecture.md, "Invariants in the schema".
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quality_rating__isnull=True)
                | models.Q(quality_rating__gte=1, quality_rating__lte=5),
                name="question_quality_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=_QuestionStatus.values),
                name="question_status_valid",
                violation_error_message="Unknown question status.",
            ),
            models.CheckConstraint(
                condition=models.Q(via__in=_QuestionChannel.values),
                name="question_via_valid",
                violation_error_message="Unknown channel.",
            ),
            models.CheckConstraint(
                condition=models.Q(category="") | models.Q(category__in=_QuestionCategory.values),
                name="question_category_valid",
                violation_error_message="Unknown question category.",
            ),
            models.CheckConstraint(
                condition=models.Q(slack_event__isnull=True) | models.Q(via=_QuestionChannel.SLACK),
                name="question_slack_event_via_slack",
                violation_error_message="Only a question asked in Slack comes from a Slack event.",
            ),
            # Delivery writes both at once; the overview's latency figures read them together.
            models.CheckConstraint(
                condition=models.Q(answered_at__isnull=True, latency_ms__isnull=True)
                | models.Q(answered_at__isnull=False, latency_ms__isnull=False),
                name="question_answered_at_with_latency",
                violation_error_message="Answered at and latency are set together.",
            ),
            models.CheckConstraint(
                condition=~models.Q(
                    status__in=[_QuestionStatus.ANSWERED, _QuestionStatus.NOT_COVERED]
                )
                | models.Q(answered_at__isnull=False),
                name="question_answered_has_answered_at",
                violation_error_message="An answered question has its answer time.",
            ),
            # What went wrong is the first thing a reviewer of a failed question needs.
            models.CheckConstraint(
                condition=~models.Q(
                    status__in=[_QuestionStatus.FAILED, _QuestionStatus.UNDELIVERED]
                )
                | ~models.Q(error=""),
                name="question_failure_has_error",
                violation_error_message="A failed or undelivered question says what went wrong.",
            ),
            # The reviewer may be gone (a deleted user), but never outlives the tick.
            models.CheckConstraint(
                condition=models.Q(reviewed=True, reviewed_at__isnull=False)
                | models.Q(reviewed=False, reviewer__isnull=True, reviewed_at__isnull=True),
                name="question_review_recorded",
                violation_error_message=(
                    "A reviewed question has its review time; an unreviewed one has no reviewer "
                    "or review time."
                ),
            ),
        ]
        # Answering again calls the model and posts in the asker's thread: more than a review.
        permissions = [("answer_again_question", "Can answer questions again")]

    def __str__(self) -> str:
        return f"Question {self.pk}: {self.text[:60]}"


class Answer(models.Model):
    """One answer to a question; answering again adds another, keeping the old one."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    text = models.TextField()
    covered = models.BooleanField(help_text="Whether the documentation covered the question.")
    model = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    slack_channel_id = models.CharField(max_length=50, blank=True)
    slack_message_ts = models.CharField(
        max_length=50, blank=True, help_text="Set once delivered; never posted twice."
    )
    slack_continuation_ts = ArrayField(
        models.CharField(max_length=50),
        default=list,
        blank=True,
        help_text="The messages a long answer continues in, after the first, in order.",
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    shared_at = models.DateTimeField(
        null=True, blank=True, help_text="When the asker shared a private answer in the channel."
    )

    class Meta:
        indexes = [
            # Admin search: Django's icontains is UPPER(text) LIKE, which this index serves.
            GinIndex(OpClass(Upper("text"), name="gin_trgm_ops"), name="answer_text_search_trgm"),
        ]
        # docs/architecture.md, "Invariants in the schema". A re-run edits the stored messages
        # instead of posting again, so a message must never go unrecorded.
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slack_continuation_ts__len=0) | ~models.Q(slack_message_ts=""),
                name="answer_continuations_follow_first_message",
                violation_error_message=(
                    "An answer continues in more messages only after its first one."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(delivered_at__isnull=True)
                | models.Q(slack_channel_id="")
                | ~models.Q(slack_message_ts=""),
                name="answer_delivered_in_slack_has_message",
                violation_error_message="An answer delivered in Slack has its message's ts.",
            ),
        ]

    def __str__(self) -> str:
        return f"Answer {self.pk} to question {self.question_id}"


class Citation(models.Model):
    """A source shown under an answer, kept as shown even if the chunk is re-ingested."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="citations")
    chunk = models.ForeignKey(
        "data.Chunk", null=True, blank=True, on_delete=models.SET_NULL, related_name="citations"
    )
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=500)
    heading = models.TextField(blank=True)
    url = models.CharField(max_length=2000, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "position"], name="citation_unique_position"),
            # Shown as [1], [2], ... under the answer.
            models.CheckConstraint(
                condition=models.Q(position__gte=1),
                name="citation_position_from_1",
                violation_error_message="Citations are numbered from 1.",
            ),
        ]

    def __str__(self) -> str:
        return f"Citation {self.position} of answer {self.answer_id}"


class AgentRun(models.Model):
    """One call of an agent: which model, what it cost, how long it took, how it ended."""

    Outcome: TypeAlias = _AgentRunOutcome  # noqa: UP040

    question = models.ForeignKey(
        Question, null=True, blank=True, on_delete=models.CASCADE, related_name="agent_runs"
    )
    release_notes = models.ForeignKey(
        "data.ReleaseNotes",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="agent_runs",
    )
    agent = models.CharField(max_length=100)
    model = models.CharField(max_length=200)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["started_at", "id"], name="agent_run_started_at_idx")]
        # docs/architecture.md, "Invariants in the schema".
        constraints = [
            # A run with no owner would escape both cascades and count towards no one's cost.
            models.CheckConstraint(
                condition=models.Q(question__isnull=False, release_notes__isnull=True)
                | models.Q(question__isnull=True, release_notes__isnull=False),
                name="agent_run_one_owner",
                violation_error_message=(
                    "An agent run belongs to exactly one question or one release notes."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=_AgentRunOutcome.values),
                name="agent_run_outcome_valid",
                violation_error_message="Unknown agent run outcome.",
            ),
            # FALLBACK is never written (application/model_runs.py): no rule for its error.
            models.CheckConstraint(
                condition=(~models.Q(outcome=_AgentRunOutcome.OK) | models.Q(error=""))
                & (~models.Q(outcome__in=_FAILED_RUN_OUTCOMES) | ~models.Q(error="")),
                name="agent_run_error_matches_outcome",
                violation_error_message=(
                    "A run that ended OK has no error; one that failed says what went wrong."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} run {self.pk} ({self.outcome})"
