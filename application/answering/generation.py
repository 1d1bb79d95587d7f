"""Ask the answer agent, through the one agent runner, relaying its answer as it streams."""

import dataclasses
import time
from collections.abc import AsyncIterable, Callable

import pydantic_core
from django.conf import settings
from pydantic_ai import RunContext
from pydantic_ai.agent import EventStreamHandler
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

from application import model_runs
from application.answering import agent as answer_agent
from application.answering import messenger, not_covered, offline_model
from domain import agent_runs
from domain.questions import records

PARTIAL_INTERVAL = 0.3  # seconds between updates of a live answer (Slack rate limits)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Generated:
    output: answer_agent.AnswerOutput | None  # None when the model failed
    citations: list[records.CitationInput]
    runs: list[agent_runs.AgentRunRecord]
    error: str


def _history(turns: list[records.Turn]) -> list[ModelMessage]:
    messages: list[ModelMessage] = []
    for turn in turns:
        messages.append(ModelRequest(parts=[UserPromptPart(content=turn.question)]))
        messages.append(ModelResponse(parts=[TextPart(content=turn.answer)]))
    return messages


def _partial_relay(
    on_partial: Callable[[str, list[messenger.Source]], None],
) -> EventStreamHandler[answer_agent.AnswerDeps]:
    """Pass the answer text on as the model writes its output tool call's arguments, with the
    sections search has found so far (what the answer is being written from).

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
                on_partial(text, _found(ctx.deps))

    return relay


def _found(deps: answer_agent.AnswerDeps) -> list[messenger.Source]:
    return [
        messenger.Source(title=passage.title, heading=passage.heading_path, url=passage.url)
        for passage in deps.seen.values()
    ]


async def generate(
    *,
    question: str,
    history: list[records.Turn],
    search: answer_agent.Search,
    on_partial: Callable[[str, list[messenger.Source]], None] | None = None,
    context: str = "",
) -> Generated:
    """Run the answer agent (retries are the runner's); never raises for the model's sake.

    With ``on_partial``, a model that streams has its answer relayed as it writes it (the
    offline model answers at once, so it is not streamed). Passages that any attempt found
    may be cited.
    """
    deps = answer_agent.AnswerDeps(search=search, context=context)
    run = await model_runs.run(
        agent=answer_agent.agent,
        prompt=question,
        deps=deps,
        model_name=settings.CHATBOT_MODEL,
        offline_model=offline_model.OfflineAnswerModel,
        history=_history(history),
        event_stream_handler=_partial_relay(on_partial) if on_partial is not None else None,
    )
    if run.output is None:
        return Generated(output=None, citations=[], runs=run.records, error=run.error)
    output = run.output
    if not output.covered:
        closest = [
            messenger.section_label(title=passage.title, heading_path=passage.heading_path)
            for passage in deps.seen.values()
        ]
        text = f"{output.answer.rstrip()}\n\n{not_covered.note(closest=closest)}"
        output = output.model_copy(update={"answer": text})
    citations = [
        records.CitationInput(
            chunk_id=passage.chunk_id,
            title=passage.title,
            heading=passage.heading_path,
            url=passage.url,
        )
        for passage in (deps.seen[chunk_id] for chunk_id in dict.fromkeys(output.cited_chunk_ids))
    ]
    return Generated(output=output, citations=citations, runs=run.records, error="")
