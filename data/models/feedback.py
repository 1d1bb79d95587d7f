"""What people made of answers: votes, requests for a person, and reviewers' corrections."""

from typing import TypeAlias

from django.conf import settings
from django.db import models

from data.models.questions import Answer, Question

# As in data/models/questions.py, choices live outside their models so that Meta can use them.


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
