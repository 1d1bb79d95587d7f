"""Answer a question: the product's main use case, for Slack events, the terminal and re-answers.

The shape follows docs/architecture.md: one prefetching read up front; the slow parts (status,
the question's record, the answer agent, which also labels the question) run concurrently in a
``TaskGroup``, holding no connection (the backend gives it back between queries); writes
happen in small sync functions, each run in one transaction through ``application.writes``.

Exactly-once delivery to Slack: the Slack message ts is stored the moment the message exists
(on an empty, unfinished answer while a streaming model is still writing; otherwise the
answer is stored before it is posted), and delivery is marked at the end. A re-run (Slack
retry reaching a new job, procrastinate retrying a failed or stalled job) looks at that state
and only does what is left: nothing, post the stored answer, finish the message it already
started, answer again into that message when the model had not finished, or only send the
apology when the model had failed and Slack had not taken it.
"""

import asyncio
import dataclasses
import datetime as dt
import functools
import logging
import time
from collections.abc import AsyncIterable, Awaitable, Callable

import pydantic_core
from django.conf import settings
from django.utils import timezone
from pydantic_ai import RunContext, UsageLimitExceeded, UsageLimits
from pydantic_ai import models as models_module
from pydantic_ai.agent import EventStreamHandler
from pydantic_ai.exceptions import UnexpectedModelBehavior
from pydantic_ai.messages import (
    AgentStreamEvent,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    ToolCallPart,
    ToolCallPartDelta,
    UserPromptPart,
)
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from application import messenger as messenger_module
from application import writes
from application.agents import answer as answer_agent
from application.agents import offline
from data import models
from domain import agent_runs, questions

logger = logging.getLogger(__name__)

STATUS_TEXT = "Finding a response…"
APOLOGY = (
    "Sorry, I couldn't come up with an answer just now: the language model did not respond. "
    "The question is logged for the team; please try again in a few minutes."
)


class AnswerUndelivered(Exception):
    """The answer is stored but Slack did not take it; a retry of the job delivers it."""


class ApologyUndelivered(Exception):
    """The model failed and the asker could not be told; a retry of the job only tells them."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Incoming:
    text: str
    via: str  # models.Question.Channel
    asked_at: dt.datetime
    conversation: messenger_module.Conversation
    slack_event_id: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outcome:
    question_id: int
    status: str
    answer_id: int | None
    text: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Generated:
    output: answer_agent.AnswerOutput | None
    citations: list[questions.CitationInput]
    runs: list[agent_runs.AgentRunRecord]
    error: str


@functools.cache
def _model(name: str, *, offline_model: type[Model]) -> Model:
    """One model object per configured name: building a provider client per question is slow."""
    return offline_model() if name == offline.MODEL_NAME else models_module.infer_model(name)


def _answer_model() -> Model:
    return _model(settings.CHATBOT_MODEL, offline_model=offline.OfflineAnswerModel)


def _model_settings(model: Model) -> ModelSettings | None:
    if isinstance(model, offline.OfflineModel):
        return None
    # Our loop owns retrying (with backoff and a record per attempt), not the provider's SDK.
    return ModelSettings(timeout=settings.CHATBOT_MODEL_TIMEOUT, max_retries=0)


def _usage_limits() -> UsageLimits:
    return UsageLimits(
        request_limit=settings.CHATBOT_MODEL_REQUEST_LIMIT,
        total_tokens_limit=settings.CHATBOT_MODEL_TOKEN_LIMIT,
    )


def _history(turns: list[questions.Turn]) -> list[ModelMessage]:
    messages: list[ModelMessage] = []
    for turn in turns:
        messages.append(ModelRequest(parts=[UserPromptPart(content=turn.question)]))
        messages.append(ModelResponse(parts=[TextPart(content=turn.answer)]))
    return messages


def _run_record(
    *, agent: str, model: str, started_at: dt.datetime, began: float, outcome: str, error: str = ""
) -> agent_runs.AgentRunRecord:
    return agent_runs.AgentRunRecord(
        agent=agent,
        model=model,
        input_tokens=0,
        output_tokens=0,
        latency_ms=int((time.perf_counter() - began) * 1000),
        outcome=outcome,
        error=error[:2000],
        started_at=started_at,
    )


def _outcome_of(error: Exception) -> str:
    if isinstance(error, TimeoutError):
        return models.AgentRun.Outcome.TIMEOUT
    if isinstance(error, UnexpectedModelBehavior):
        return models.AgentRun.Outcome.INVALID_OUTPUT
    return models.AgentRun.Outcome.ERROR


PARTIAL_INTERVAL = 0.3  # seconds between updates of a live answer (Slack rate limits)


def _partial_relay(
    on_partial: Callable[[str], None],
) -> EventStreamHandler[answer_agent.AnswerDeps]:
    """Pass the answer text on as the model writes its output tool call's arguments.

    ``on_partial`` must not wait: this runs inside the model's timeout.
    """

    async def relay(
        ctx: RunContext[answer_agent.AnswerDeps], events: AsyncIterable[AgentStreamEvent]
    ) -> None:
        arguments: dict[int, str] = {}
        last = 0.0
        async for event in events:
            if isinstance(event, PartStartEvent) and isinstance(event.part, ToolCallPart):
                if event.part.tool_name == answer_agent.SEARCH_TOOL:
                    continue
                arguments[event.index] = event.part.args_as_json_str() if event.part.args else ""
            elif (
                isinstance(event, PartDeltaEvent)
                and event.index in arguments
                and isinstance(event.delta, ToolCallPartDelta)
                and isinstance(event.delta.args_delta, str)
            ):
                arguments[event.index] += event.delta.args_delta
            else:
                continue
            if time.monotonic() - last < PARTIAL_INTERVAL:
                continue
            try:
                partial = pydantic_core.from_json(
                    arguments[event.index], allow_partial="trailing-strings"
                )
            except ValueError:
                continue
            text = partial.get("answer") if isinstance(partial, dict) else None
            if isinstance(text, str) and text.strip():
                last = time.monotonic()
                on_partial(text)

    return relay


async def _generate(
    *,
    question: str,
    history: list[questions.Turn],
    search: answer_agent.Search,
    on_partial: Callable[[str], None] | None = None,
) -> _Generated:
    """Run the answer agent, retrying model failures with backoff; never raises for them.

    With ``on_partial``, a model that streams has its answer relayed as it writes it (the
    offline model answers at once, so it is not streamed).
    """
    model = _answer_model()
    relay = (
        _partial_relay(on_partial)
        if on_partial is not None and not isinstance(model, offline.OfflineModel)
        else None
    )
    model_name = settings.CHATBOT_MODEL
    runs: list[agent_runs.AgentRunRecord] = []
    error = ""
    attempts = 1 + max(0, settings.CHATBOT_MODEL_RETRIES)
    for attempt in range(1, attempts + 1):
        deps = answer_agent.AnswerDeps(search=search)
        started_at, began = timezone.now(), time.perf_counter()
        try:
            async with asyncio.timeout(settings.CHATBOT_MODEL_TIMEOUT):
                result = await answer_agent.agent.run(
                    question,
                    model=model,
                    deps=deps,
                    message_history=_history(history),
                    model_settings=_model_settings(model),
                    usage_limits=_usage_limits(),
                    event_stream_handler=relay,
                )
        except Exception as failure:
            error = f"{type(failure).__name__}: {failure}".strip()
            runs.append(
                _run_record(
                    agent="answer",
                    model=model_name,
                    started_at=started_at,
                    began=began,
                    outcome=_outcome_of(failure),
                    error=error,
                )
            )
            logger.warning("Answer agent attempt %s/%s failed: %s", attempt, attempts, error)
            if isinstance(failure, UsageLimitExceeded) or attempt == attempts:
                break
            await asyncio.sleep(settings.CHATBOT_MODEL_RETRY_BACKOFF * 2 ** (attempt - 1))
            continue
        usage = result.usage
        record = _run_record(
            agent="answer",
            model=model_name,
            started_at=started_at,
            began=began,
            outcome=models.AgentRun.Outcome.OK,
        )
        runs.append(
            dataclasses.replace(
                record,
                input_tokens=usage.input_tokens or 0,
                output_tokens=usage.output_tokens or 0,
            )
        )
        output = result.output
        citations = [
            questions.CitationInput(
                chunk_id=passage.chunk_id,
                title=passage.title,
                heading=passage.heading_path,
                url=passage.url,
            )
            for passage in (
                deps.seen[chunk_id] for chunk_id in dict.fromkeys(output.cited_chunk_ids)
            )
        ]
        return _Generated(output=output, citations=citations, runs=runs, error="")
    return _Generated(output=None, citations=[], runs=runs, error=error)


async def _show_status(messenger: messenger_module.Messenger) -> None:
    try:
        await messenger.show_status(text=STATUS_TEXT)
    except Exception:
        logger.exception("Could not show the status")


# The writes, each one atomic block.


def _start_question(*, incoming: Incoming) -> int:
    conversation = incoming.conversation
    return questions.start(
        new=questions.NewQuestion(
            via=incoming.via,
            text=incoming.text,
            asked_at=incoming.asked_at,
            slack_event_id=incoming.slack_event_id,
            team_id=conversation.team_id,
            channel_id=conversation.channel_id,
            thread_ts=conversation.thread_ts,
            message_ts=conversation.message_ts,
            asker_id=conversation.asker_id,
        )
    )


def _record_answer(
    *,
    question_id: int,
    generated: _Generated,
    slack_channel_id: str,
    now: dt.datetime,
    live_answer_id: int | None,
) -> int:
    assert generated.output is not None
    return questions.record_answer(
        answer_id=live_answer_id,
        question_id=question_id,
        text=generated.output.answer,
        covered=generated.output.covered,
        model=settings.CHATBOT_MODEL,
        citations=generated.citations,
        runs=generated.runs,
        title=generated.output.title,
        category=generated.output.category,
        slack_channel_id=slack_channel_id,
        now=now,
    )


def _record_failure(
    *,
    question_id: int,
    generated: _Generated,
    live_answer_id: int | None,
) -> None:
    questions.mark_failed(
        question_id=question_id,
        error=generated.error or "unknown error",
        runs=generated.runs,
        unfinished_answer_id=live_answer_id,
    )


def _forget_unfinished_answer(*, answer_id: int) -> None:
    questions.forget_unfinished_answer(answer_id=answer_id)


def _start_live_answer(
    *, question_id: int, slack_channel_id: str, ts: str, now: dt.datetime
) -> int:
    return questions.start_live_answer(
        question_id=question_id,
        model=settings.CHATBOT_MODEL,
        slack_channel_id=slack_channel_id,
        slack_message_ts=ts,
        now=now,
    )


class _Live:
    """The answer shown while the model writes it, and the row that remembers its message.

    The model's event stream only hands text over (:meth:`offer`, which never waits);
    :meth:`send_updates`, a task beside the model, shows the newest text, skipping any that a
    newer one replaced while Slack was busy. A slow or rate-limited Slack (a 429 waits for
    ``Retry-After``) therefore never counts against the model's timeout.
    """

    def __init__(
        self,
        *,
        messenger: messenger_module.Messenger,
        question_id: Callable[[], Awaitable[int]],
        slack_channel_id: str,
        answer_id: int | None = None,
        ts: str = "",
    ) -> None:
        self._messenger = messenger
        self._question_id = question_id
        self._channel_id = slack_channel_id
        self.answer_id = answer_id
        self.ts = ts
        self._latest = ""
        self._changed = asyncio.Event()
        self._closed = False

    def offer(self, text: str) -> None:
        self._latest = text
        self._changed.set()

    def close(self) -> None:
        """The model is done: :meth:`send_updates` ends after the update in flight, if any.

        Text not yet shown is dropped (the final delivery has all of it); the update in flight
        is waited for, not cancelled, so the messenger knows what Slack shows and nothing lands
        after the final message.
        """
        self._closed = True
        self._changed.set()

    async def send_updates(self) -> None:
        shown = ""
        while True:
            await self._changed.wait()
            self._changed.clear()
            if self._closed:
                return
            if self._latest != shown:
                shown = self._latest
                await self._show(shown)

    async def _show(self, text: str) -> None:
        try:
            await self._messenger.show_partial(text=text, on_posted=self._posted)
        except Exception:
            # Only the live view is lost; the finished answer is still delivered.
            logger.exception("Could not show the partial answer")

    async def _posted(self, ts: str) -> None:
        question_id = await self._question_id()
        self.answer_id = await writes.write(
            _start_live_answer,
            question_id=question_id,
            slack_channel_id=self._channel_id,
            ts=ts,
            now=timezone.now(),
        )
        self.ts = ts


def _record_message_ts(*, answer_id: int, ts: str) -> None:
    questions.record_message_ts(answer_id=answer_id, slack_message_ts=ts)


def _record_delivery(*, question_id: int, answer_id: int, ts: str, now: dt.datetime) -> None:
    questions.mark_delivered(
        question_id=question_id, answer_id=answer_id, slack_message_ts=ts, now=now
    )


def _record_undelivered(*, question_id: int, error: str) -> None:
    questions.mark_undelivered(question_id=question_id, error=error)


async def _deliver(
    *,
    question_id: int,
    answer: questions.AnswerState,
    messenger: messenger_module.Messenger,
) -> str:
    outgoing = messenger_module.OutgoingAnswer(
        answer_id=answer.id,
        text=answer.text,
        covered=answer.covered,
        sources=[
            messenger_module.Source(title=c.title, heading=c.heading, url=c.url)
            for c in answer.citations
        ],
    )

    async def on_posted(ts: str) -> None:
        await writes.write(_record_message_ts, answer_id=answer.id, ts=ts)

    try:
        ts = await messenger.deliver(
            answer=outgoing,
            existing_ref=answer.slack_message_ts,
            continuation_refs=answer.continuation_ts,
            on_posted=on_posted,
        )
    except messenger_module.DeliveryFailed as failure:
        await writes.write(
            _record_undelivered, question_id=question_id, error=f"delivery failed: {failure}"
        )
        raise AnswerUndelivered(str(failure)) from failure
    await writes.write(
        _record_delivery,
        question_id=question_id,
        answer_id=answer.id,
        ts=ts,
        now=timezone.now(),
    )
    return ts


def _answer_state(
    answer_id: int, generated: _Generated, existing_ref: str = ""
) -> questions.AnswerState:
    assert generated.output is not None
    return questions.AnswerState(
        id=answer_id,
        text=generated.output.answer,
        covered=generated.output.covered,
        model=settings.CHATBOT_MODEL,
        slack_message_ts=existing_ref,
        delivered=False,
        continuation_ts=[],
        citations=generated.citations,
    )


async def _generate_shown(
    *,
    live: _Live,
    show: bool,
    question: str,
    history: list[questions.Turn],
    search: answer_agent.Search,
) -> _Generated:
    """Generate (relaying the answer to ``live`` while it is written, if ``show``), then let
    ``live`` stop sending updates, before anything is delivered."""
    try:
        return await _generate(
            question=question,
            history=history,
            search=search,
            on_partial=live.offer if show else None,
        )
    finally:
        live.close()


async def _answer_and_deliver(
    *,
    question_id: int,
    text: str,
    history: list[questions.Turn],
    conversation: messenger_module.Conversation,
    messenger: messenger_module.Messenger,
    search: answer_agent.Search,
) -> Outcome:
    async def known_question_id() -> int:
        return question_id

    live = _Live(
        messenger=messenger, question_id=known_question_id, slack_channel_id=conversation.channel_id
    )
    async with asyncio.TaskGroup() as group:
        group.create_task(_show_status(messenger))
        group.create_task(live.send_updates())
        generating = group.create_task(
            _generate_shown(live=live, show=True, question=text, history=history, search=search)
        )
    generated = generating.result()
    # An admin's answer-again is not retried for a lost apology: the retry would ask the
    # model again, and the admin sees the failure on the question anyway.
    return await _finish(
        question_id=question_id,
        generated=generated,
        conversation=conversation,
        messenger=messenger,
        live=live,
        retry_apology=False,
    )


async def _apologise(
    *, question_id: int, messenger: messenger_module.Messenger, existing_ref: str
) -> bool:
    """Tell the asker the model failed, in the half-written answer's message if there is one."""
    try:
        await messenger.apologise(text=APOLOGY, existing_ref=existing_ref)
    except Exception:
        logger.exception("Could not deliver the apology for question %s", question_id)
        return False
    return True


async def _finish(
    *,
    question_id: int,
    generated: _Generated,
    conversation: messenger_module.Conversation,
    messenger: messenger_module.Messenger,
    live: _Live,
    retry_apology: bool,
) -> Outcome:
    if generated.output is None:
        told = await _apologise(question_id=question_id, messenger=messenger, existing_ref=live.ts)
        if not told and retry_apology:
            # FAILED, but the unfinished answer stays: its message is where the job's retry
            # puts the apology (the retry does not ask the model again).
            await writes.write(
                _record_failure,
                question_id=question_id,
                generated=generated,
                live_answer_id=None,
            )
            raise ApologyUndelivered(f"question {question_id}: the asker was not told")
        await writes.write(
            _record_failure,
            question_id=question_id,
            generated=generated,
            live_answer_id=live.answer_id,
        )
        return Outcome(
            question_id=question_id,
            status=models.Question.Status.FAILED,
            answer_id=None,
            text=APOLOGY,
        )
    answer_id = await writes.write(
        _record_answer,
        question_id=question_id,
        generated=generated,
        slack_channel_id=conversation.channel_id,
        now=timezone.now(),
        live_answer_id=live.answer_id,
    )
    await _deliver(
        question_id=question_id,
        answer=_answer_state(answer_id, generated, existing_ref=live.ts),
        messenger=messenger,
    )
    return Outcome(
        question_id=question_id,
        status=models.Question.Status.ANSWERED,
        answer_id=answer_id,
        text=generated.output.answer,
    )


async def answer(
    *,
    incoming: Incoming,
    messenger: messenger_module.Messenger,
    search: answer_agent.Search,
) -> Outcome:
    """Answer a newly asked question, or finish what an earlier run of it left undone."""
    conversation = incoming.conversation
    existing = (
        await questions.for_slack_event(slack_event_id=incoming.slack_event_id)
        if incoming.slack_event_id is not None
        else None
    )
    history = await questions.thread_history(
        channel_id=conversation.channel_id,
        thread_ts=conversation.thread_ts,
        before=incoming.asked_at,
    )

    latest = existing.latest_answer if existing is not None else None
    unfinished = latest is not None and not latest.text
    if existing is not None and latest is not None and not unfinished:
        if not latest.delivered:
            await _deliver(question_id=existing.id, answer=latest, messenger=messenger)
        return Outcome(
            question_id=existing.id,
            status=models.Question.Status.ANSWERED,
            answer_id=latest.id,
            text=latest.text,
        )
    if existing is not None and existing.status == models.Question.Status.FAILED:
        # An earlier run gave up on the model but could not tell the asker: only that is left.
        ref = latest.slack_message_ts if latest is not None else ""
        if not await _apologise(question_id=existing.id, messenger=messenger, existing_ref=ref):
            raise ApologyUndelivered(f"question {existing.id}: the asker was not told")
        if latest is not None:
            await writes.write(_forget_unfinished_answer, answer_id=latest.id)
        return Outcome(
            question_id=existing.id,
            status=models.Question.Status.FAILED,
            answer_id=None,
            text=APOLOGY,
        )

    async with asyncio.TaskGroup() as group:
        group.create_task(_show_status(messenger))
        storing = group.create_task(writes.write(_start_question, incoming=incoming))

        async def stored_question_id() -> int:
            return await storing

        # An earlier run died while its answer was streaming: answer again into that message.
        live = _Live(
            messenger=messenger,
            question_id=stored_question_id,
            slack_channel_id=conversation.channel_id,
            answer_id=latest.id if latest is not None and unfinished else None,
            ts=latest.slack_message_ts if latest is not None and unfinished else "",
        )
        group.create_task(live.send_updates())
        generating = group.create_task(
            _generate_shown(
                live=live,
                show=not unfinished,
                question=incoming.text,
                history=history,
                search=search,
            )
        )
    return await _finish(
        question_id=storing.result(),
        generated=generating.result(),
        conversation=conversation,
        messenger=messenger,
        live=live,
        retry_apology=True,
    )


async def answer_again(
    *,
    question_id: int,
    make_messenger: Callable[[messenger_module.Conversation], messenger_module.Messenger],
    search: answer_agent.Search,
) -> Outcome:
    """A new answer beside the old ones (an admin asked for it), delivered in the same thread."""
    question = await questions.get(question_id=question_id)
    history = await questions.thread_history(
        channel_id=question.channel_id, thread_ts=question.thread_ts, before=question.asked_at
    )
    conversation = messenger_module.Conversation(
        team_id=question.team_id,
        channel_id=question.channel_id,
        thread_ts=question.thread_ts,
        message_ts=question.message_ts,
        asker_id=question.asker_id,
    )
    return await _answer_and_deliver(
        question_id=question.id,
        text=question.text,
        history=history,
        conversation=conversation,
        messenger=make_messenger(conversation),
        search=search,
    )
