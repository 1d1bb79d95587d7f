"""The ``offline`` model: real pydantic-ai models that need no provider and never invent.

``OfflineAnswerModel`` behaves like a careful tool-using model: it calls the agent's search
tool with the question, then answers through the agent's output tool by quoting the best
passages (``domain.knowledge.extractive``), citing them, or says plainly that the documentation
does not cover the question, labelling the question by keywords. It goes through the same
agent loop, validation and usage accounting as any hosted model.
"""

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.profiles import ModelProfile
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RequestUsage

from domain.knowledge import extractive

MODEL_NAME = "offline"
SEARCH_TOOL = "search_docs"


def _current_prompt(messages: list[ModelMessage]) -> tuple[str, int]:
    """The latest user prompt and its position; earlier ones are the thread's history."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content, index
    return "", 0


def _earlier_prompts(messages: list[ModelMessage], before: int) -> list[str]:
    return [
        part.content
        for message in messages[:before]
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, UserPromptPart) and isinstance(part.content, str)
    ]


def _as_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, BaseModel):
        return item.model_dump()
    return dict(item) if isinstance(item, dict) else {}


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _response(parts: list[Any], messages: list[ModelMessage]) -> ModelResponse:
    prompt_size = sum(
        len(str(getattr(part, "content", "")))
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
    )
    output_size = sum(len(str(getattr(part, "args", "") or "")) for part in parts)
    return ModelResponse(
        parts=parts,
        usage=RequestUsage(input_tokens=prompt_size // 4, output_tokens=output_size // 4),
        model_name=MODEL_NAME,
        timestamp=datetime.now(UTC),
    )


class OfflineModel(Model):
    def __init__(self) -> None:
        super().__init__(
            profile=ModelProfile(supports_json_schema_output=True, supports_json_object_output=True)
        )

    @property
    def model_name(self) -> str:
        return MODEL_NAME

    @property
    def system(self) -> str:
        return MODEL_NAME

    @staticmethod
    def _output_tool(parameters: ModelRequestParameters) -> str:
        if not parameters.output_tools:
            raise RuntimeError("the offline model needs an agent with structured output")
        return parameters.output_tools[0].name


class OfflineAnswerModel(OfflineModel):
    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        question, position = _current_prompt(messages)
        current = messages[position:]
        searches = [
            part
            for message in current
            if isinstance(message, ModelRequest)
            for part in message.parts
            if isinstance(part, ToolReturnPart) and part.tool_name == SEARCH_TOOL
        ]
        rejected = any(
            isinstance(part, RetryPromptPart)
            for message in current
            if isinstance(message, ModelRequest)
            for part in message.parts
        )
        earlier = _earlier_prompts(messages, position)
        if not searches:
            return _response(
                [ToolCallPart(tool_name=SEARCH_TOOL, args={"query": question})], messages
            )
        hits = [
            _as_dict(item)
            for part in searches
            if isinstance(part.content, list)
            for item in part.content
        ]
        if not hits and earlier and len(searches) == 1:
            # A follow-up like "and on Linux?" only makes sense with what was asked before.
            return _response(
                [ToolCallPart(tool_name=SEARCH_TOOL, args={"query": f"{earlier[-1]} {question}"})],
                messages,
            )
        passages = [
            extractive.Passage(
                chunk_id=int(hit["chunk_id"]),
                title=str(hit.get("title", "")),
                heading=str(hit.get("heading", "")),
                text=str(hit.get("text", "")),
            )
            for hit in hits
            if "chunk_id" in hit
        ]
        words_from = " ".join([*earlier[-1:], question]) if len(searches) > 1 else question
        extract = (
            extractive.Extract(text=extractive.NOT_COVERED, chunk_ids=[], covered=False)
            if rejected
            else extractive.compose(question=words_from, passages=passages)
        )
        category, title = _labels(question)
        args = {
            "answer": extract.text,
            "cited_chunk_ids": extract.chunk_ids,
            "covered": extract.covered,
            "category": category,
            "title": title,
        }
        return _response(
            [ToolCallPart(tool_name=self._output_tool(model_request_parameters), args=args)],
            messages,
        )


_CATEGORY_WORDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "ACCESS",
        re.compile(r"\b(access|permission|login|log in|password|account|sso|vpn|credential)", re.I),
    ),
    (
        "TROUBLESHOOTING",
        re.compile(r"\b(error|fail|broken|crash|not working|doesn't work|can't|cannot|bug)", re.I),
    ),
    ("POLICY", re.compile(r"\b(policy|allowed|allowance|approval|expense|leave|holiday)", re.I)),
    ("HOW_TO", re.compile(r"\b(how (do|can|to|should)|steps|set ?up|configure|install)", re.I)),
    ("CONCEPT", re.compile(r"\b(what is|what are|why|difference|explain|meaning)", re.I)),
]


def _labels(question: str) -> tuple[str, str]:
    category = next(
        (name for name, pattern in _CATEGORY_WORDS if pattern.search(question)), "OTHER"
    )
    words = re.sub(r"<@[A-Z0-9]+>", "", question).split()
    title = " ".join(words[:8]).rstrip("?.!,") or "Question"
    return category, title[:120]
