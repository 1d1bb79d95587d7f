"""factory-boy factories. Create rows with ``await SomeFactory.acreate(...)`` in async tests."""

import asyncio
from typing import Any

import factory
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.utils import timezone


class SyncCreateInEventLoop(RuntimeError):
    """A factory was asked to write synchronously from inside a running event loop."""


class AsyncFactory(factory.django.DjangoModelFactory):
    """A model factory whose ``create`` refuses to block a running event loop.

    Django raises ``SynchronousOnlyOperation`` deep inside the ORM in that case; failing early
    with the fix in the message saves a debugging session.
    """

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return super()._create(model_class, *args, **kwargs)
        raise SyncCreateInEventLoop(
            f"{cls.__name__}.create() was called inside a running event loop; "
            f"use `await {cls.__name__}.acreate(...)` instead."
        )

    @classmethod
    async def acreate(cls, **kwargs: Any) -> Any:
        return await sync_to_async(cls.create, thread_sensitive=True)(**kwargs)

    @classmethod
    async def acreate_batch(cls, size: int, **kwargs: Any) -> list[Any]:
        return await sync_to_async(cls.create_batch, thread_sensitive=True)(size, **kwargs)


class UserFactory(AsyncFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")
    is_staff = False


# --- Questions, answers, citations, agent runs, feedback (admin review, issue 5) ---


class QuestionFactory(AsyncFactory):
    class Meta:
        model = "data.Question"

    via = "SLACK"
    team_id = "T0001"
    channel_id = "C0001"
    thread_ts = factory.Sequence(lambda n: f"1700000000.{n:06d}")
    message_ts = factory.LazyAttribute(lambda question: question.thread_ts)
    asker_id = factory.Sequence(lambda n: f"U{n:05d}")
    asker_name = factory.Sequence(lambda n: f"Asker {n}")
    text = factory.Sequence(lambda n: f"How do I request access to system {n}?")
    category = "HOW_TO"
    status = "ANSWERED"
    # Consistent with the schema's constraints (docs/architecture.md, "Invariants in the schema").
    error = factory.LazyAttribute(
        lambda question: (
            "TimeoutError: the model did not answer"
            if question.status in ("FAILED", "UNDELIVERED")
            else ""
        )
    )
    asked_at = factory.LazyFunction(timezone.now)
    answered_at = factory.LazyAttribute(
        lambda question: (
            question.asked_at if question.status in ("ANSWERED", "NOT_COVERED") else None
        )
    )
    latency_ms = factory.LazyAttribute(
        lambda question: None if question.answered_at is None else 1200
    )
    reviewed = False
    reviewed_at = factory.LazyAttribute(
        lambda question: question.asked_at if question.reviewed else None
    )


class AnswerFactory(AsyncFactory):
    class Meta:
        model = "data.Answer"

    question = factory.SubFactory(QuestionFactory)
    text = "Open *Access* in the handbook and follow the steps."
    covered = True
    model = "offline"
    created_at = factory.LazyAttribute(lambda answer: answer.question.asked_at)
    slack_channel_id = factory.LazyAttribute(lambda answer: answer.question.channel_id)
    slack_message_ts = factory.Sequence(lambda n: f"1700001000.{n:06d}")
    delivered_at = factory.LazyAttribute(lambda answer: answer.created_at)


class CitationFactory(AsyncFactory):
    class Meta:
        model = "data.Citation"

    answer = factory.SubFactory(AnswerFactory)
    position = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Handbook page {n}")
    heading = "Access > Requesting"
    url = factory.Sequence(lambda n: f"https://docs.example.com/handbook/page-{n}")


class AgentRunFactory(AsyncFactory):
    class Meta:
        model = "data.AgentRun"

    question = factory.SubFactory(QuestionFactory)
    agent = "answer"
    model = "offline"
    input_tokens = 900
    output_tokens = 150
    latency_ms = 800
    outcome = "OK"
    started_at = factory.LazyFunction(timezone.now)


class FeedbackFactory(AsyncFactory):
    class Meta:
        model = "data.Feedback"

    answer = factory.SubFactory(AnswerFactory)
    slack_user_id = factory.Sequence(lambda n: f"UVOTER{n:05d}")
    vote = "UP"
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyAttribute(lambda feedback: feedback.created_at)


class EvalCaseFactory(AsyncFactory):
    class Meta:
        model = "data.EvalCase"

    text = factory.Sequence(lambda n: f"Eval question {n}?")
    created_at = factory.LazyFunction(timezone.now)
