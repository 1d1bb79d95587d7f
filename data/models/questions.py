"""Questions asked in Slack (or the terminal), their answers, citations, agent runs, feedback."""

from typing import TypeAlias

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper


class SlackEvent(models.Model):
    """The inbox: every Slack event we acknowledged, keyed by Slack's ``event_id``.

    The unique constraint is what makes Slack's retries (and concurrent duplicate deliveries)
    harmless: the second insert fails and the copy is dropped.
    """

    event_id = models.CharField(max_length=100, unique=True)
    team_id = models.CharField(max_length=50, blank=True)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its job did what the event asked (e.g. greeted); a retry then does not.",
    )

    class Meta:
        indexes = [
            # An assistant thread's latest context is looked up among its few events of these
            # kinds, not among every event ever received.
            models.Index(
                fields=["event_type", "-received_at"],
                condition=models.Q(
                    event_type__in=["assistant_thread_started", "assistant_thread_context_changed"]
                ),
                name="slack_event_assistant_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.event_id


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


class _FeedbackVote(models.TextChoices):
    UP = "UP", "👍"
    DOWN = "DOWN", "👎"


class _FeedbackReason(models.TextChoices):
    """Why a 👎: asked in a short form after the vote (answering it is optional)."""

    WRONG = "WRONG", "Wrong"
    OUTDATED = "OUTDATED", "Outdated"
    NOT_FOUND = "NOT_FOUND", "Not what I was looking for"
    OTHER = "OTHER", "Other"


class _EscalationState(models.TextChoices):
    OPEN = "OPEN", "Open"
    ANSWERED = "ANSWERED", "Answered by a person"
    CLOSED = "CLOSED", "Closed"


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


class Feedback(models.Model):
    """A 👍/👎 on an answer; one vote per person per answer, and voting again changes it."""

    Vote: TypeAlias = _FeedbackVote  # noqa: UP040
    Reason: TypeAlias = _FeedbackReason  # noqa: UP040

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="feedback")
    slack_user_id = models.CharField(max_length=50)
    vote = models.CharField(max_length=10, choices=Vote.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    comment = models.TextField(blank=True, help_text="What the person wrote with their 👎.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["answer", "slack_user_id"], name="feedback_one_vote_per_user"
            ),
            models.CheckConstraint(
                condition=models.Q(vote__in=_FeedbackVote.values),
                name="feedback_vote_valid",
                violation_error_message="A vote is up or down.",
            ),
            # A reason explains a 👎; a 👍 has none.
            models.CheckConstraint(
                condition=models.Q(reason="", comment="")
                | models.Q(vote=_FeedbackVote.DOWN, reason__in=_FeedbackReason.values),
                name="feedback_reason_explains_down_vote",
                violation_error_message="Only a 👎 has a reason, and its reason is a known one.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vote} by {self.slack_user_id} on answer {self.answer_id}"


class Escalation(models.Model):
    """Someone asked for a person ("Ask a person" under an answer): the thread's link goes to
    the channel that helps with the question's channel, and its state is followed here."""

    State: TypeAlias = _EscalationState  # noqa: UP040

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="escalations")
    answer = models.ForeignKey(
        Answer, null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations"
    )
    requested_by = models.CharField(max_length=50, help_text="Slack user id of who asked.")
    target_channel_id = models.CharField(
        max_length=50, help_text="Where the request for a person was posted."
    )
    mention = models.CharField(
        max_length=50, blank=True, help_text="A user group (S...) mentioned in that post."
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    requested_at = models.DateTimeField()
    notified_ts = models.CharField(
        max_length=50, blank=True, help_text="The post in the target channel, once made."
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    person_answer = models.TextField(
        blank=True, help_text="The first reply a person (not the asker) wrote in the thread."
    )
    answered_by = models.CharField(max_length=50, blank=True, help_text="Slack user id.")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "requested_at"], name="escalation_state_idx")]
        permissions = [("resolve_escalation", "Can mark requests for a person answered or closed")]
        verbose_name = "request for a person"
        verbose_name_plural = "requests for a person"
        constraints = [
            # Pressing the button twice (or two people pressing it) asks once.
            models.UniqueConstraint(
                fields=["question"],
                condition=models.Q(state=_EscalationState.OPEN),
                name="escalation_one_open_per_question",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=_EscalationState.values),
                name="escalation_state_valid",
                violation_error_message="Unknown escalation state.",
            ),
            models.CheckConstraint(
                condition=models.Q(person_answer="", answered_by="", answered_at__isnull=True)
                | (~models.Q(answered_by="") & models.Q(answered_at__isnull=False)),
                name="escalation_person_answer_recorded",
                violation_error_message="A person's answer is recorded with who and when.",
            ),
            models.CheckConstraint(
                condition=models.Q(notified_ts="", notified_at__isnull=True)
                | (~models.Q(notified_ts="") & models.Q(notified_at__isnull=False)),
                name="escalation_notified_together",
                violation_error_message="The post's ts and time are recorded together.",
            ),
        ]

    def __str__(self) -> str:
        return f"Escalation {self.pk} of question {self.question_id} ({self.state})"


class ReviewedAnswer(models.Model):
    """The correct answer a reviewer wrote for a question, once. While in force it is a
    section of the "Reviewed answers" documentation source, which search puts first when a
    later question matches it; retiring it (or writing a new one) takes it out of search, and
    the row stays as its history."""

    question = models.ForeignKey(
        Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviewed_answers"
    )
    question_text = models.TextField(help_text="The question as asked, kept if it is deleted.")
    text = models.TextField(help_text="The answer, in Markdown.")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_name = models.CharField(max_length=150, help_text="As shown in the citation.")
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)
    document = models.ForeignKey(
        "data.Document",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Its section in search while in force.",
    )

    class Meta:
        constraints = [
            # One answer in force per question: a new one retires the old.
            models.UniqueConstraint(
                fields=["question"],
                condition=models.Q(retired_at__isnull=True),
                name="reviewed_answer_one_in_force_per_question",
            ),
        ]

    def __str__(self) -> str:
        return f"Reviewed answer {self.pk} by {self.reviewer_name}"
