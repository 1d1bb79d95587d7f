"""A fake OpenAI-compatible Chat Completions server on 127.0.0.1.

It behaves like a dutiful tool-using model: it first calls ``search_docs`` with the user's
question, then answers through the output tool by quoting the first passage it got back
(citing it), or says the docs do not cover it, labelling the question HOW_TO with its first
words as the title. Asked to grade an answer (an agent without ``search_docs``), it gives
``grade_score``.
It can be slowed down (``delay``) or made to fail (``failures`` 500 answers first).
"""

import asyncio
import dataclasses
import itertools
import json
import time
from typing import Any

from aiohttp import web


@dataclasses.dataclass
class Request:
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.delay = 0.0
        self.failures = 0
        self.status = 500
        self.in_flight = 0
        self.stream_piece = 16  # characters of tool-call arguments per streamed chunk
        self.stream_pause = 0.02  # seconds between streamed chunks
        self.broken_streams = 0  # how many streamed answers break off half-way
        self.max_in_flight = 0
        self.answer_text = ""  # when set, every answer is this text instead of a quote
        self.grade_score = 1.0  # what it scores an answer when asked to grade one (evals)
        # Faults served in turn, one per request ("" for none): "timeout" (answers after
        # ``fault_seconds``), "500", "429" (with Retry-After) or "invalid" (a body not JSON).
        self.fault_cycle: list[str] = []
        self.fault_seconds = 2.0
        self.faults_served: list[str] = []
        self._requests_seen = 0
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/v1"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(Request(messages=body["messages"], tools=body.get("tools", [])))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        fault = ""
        if self.fault_cycle:
            fault = self.fault_cycle[self._requests_seen % len(self.fault_cycle)]
            self._requests_seen += 1
            if fault:
                self.faults_served.append(fault)
        if fault == "timeout":
            await asyncio.sleep(self.fault_seconds)
        elif fault in ("500", "429"):
            return web.json_response(
                {"error": {"message": "the fake model failed", "type": "server_error"}},
                status=int(fault),
                headers={"Retry-After": "0"},
            )
        elif fault == "invalid":
            return web.Response(text="{this is not json", content_type="application/json")
        if self.failures:
            self.failures -= 1
            return web.json_response(
                {"error": {"message": "the fake model is down", "type": "server_error"}},
                status=self.status,
            )
        completion = self._complete(body)
        if body.get("stream"):
            try:
                return await self._stream(request, completion)
            except ConnectionResetError:  # the client went away (a killed product)
                return web.Response(status=499)
        return web.json_response(completion)

    async def _stream(self, request: web.Request, completion: dict[str, Any]) -> web.StreamResponse:
        """The same completion as server-sent events, its arguments in small pieces."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        call = completion["choices"][0]["message"]["tool_calls"][0]
        arguments = call["function"]["arguments"]
        base = {k: completion[k] for k in ("id", "created", "model")}
        base["object"] = "chat.completion.chunk"

        async def send(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        first = {"index": 0, "id": call["id"], "type": "function"}
        first["function"] = {"name": call["function"]["name"], "arguments": ""}
        await send({"role": "assistant", "tool_calls": [first]})
        breaks = self.broken_streams > 0 and call["function"]["name"] != "search_docs"
        if breaks:
            self.broken_streams -= 1
        for start in range(0, len(arguments), self.stream_piece):
            if breaks and start > len(arguments) // 2:
                await response.write(b"data: {this is not json\n\n")
                await response.write_eof()
                return response
            piece = arguments[start : start + self.stream_piece]
            await send({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            await asyncio.sleep(self.stream_pause)
        await send({}, finish="tool_calls")
        usage = {**base, "choices": [], "usage": completion["usage"]}
        await response.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
        await response.write_eof()
        return response

    def _complete(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body["messages"]
        tool_names = [tool["function"]["name"] for tool in body.get("tools", [])]
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        question = _text(messages[last_user]["content"])
        turn = messages[last_user + 1 :]
        output_tool = next(name for name in tool_names if name != "search_docs")
        if "search_docs" not in tool_names:  # the eval's grading agent: only its output tool
            return self._tool_call(
                output_tool, {"score": self.grade_score, "reason": "Graded by the fake model."}
            )
        results = [m for m in turn if m["role"] == "tool"]
        if not results:
            return self._tool_call("search_docs", {"query": question})
        returned = _text(results[-1]["content"])
        hits = json.loads(returned) if returned.strip() else []  # nothing found: empty content
        if not hits:
            args = {
                "answer": "The documentation does not cover this.",
                "cited_chunk_ids": [],
                "covered": False,
            }
        else:
            args = {
                "answer": self.answer_text or f"From the docs: {hits[0]['text']}",
                "cited_chunk_ids": [hits[0]["chunk_id"]],
                "covered": True,
            }
        return self._tool_call(output_tool, {**args, "category": "HOW_TO", "title": question[:40]})

    def _tool_call(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        number = next(self._ids)
        return {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "fake-model",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": f"call_{number}",
                                "type": "function",
                                "function": {"name": name, "arguments": json.dumps(args)},
                            }
                        ],
                    },
                    "finish_reason": "tool_calls",
                }
            ],
            "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
        }


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [])
