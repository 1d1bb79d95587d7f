"""A fake OpenAI-compatible Chat Completions server on 127.0.0.1.

It behaves like a dutiful tool-using model: it first calls ``search_docs`` with the user's
question, then answers through the output tool by quoting the first passage it got back
(citing it), or says the docs do not cover it. Classifier requests get a fixed category.
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
        self.max_in_flight = 0
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

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(Request(messages=body["messages"], tools=body.get("tools", [])))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        if self.failures:
            self.failures -= 1
            return web.json_response(
                {"error": {"message": "the fake model is down", "type": "server_error"}},
                status=self.status,
            )
        return web.json_response(self._complete(body))

    def _complete(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body["messages"]
        tool_names = [tool["function"]["name"] for tool in body.get("tools", [])]
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        question = _text(messages[last_user]["content"])
        turn = messages[last_user + 1 :]
        output_tool = next(name for name in tool_names if name != "search_docs")
        output_schema = next(
            tool["function"]["parameters"]
            for tool in body["tools"]
            if tool["function"]["name"] == output_tool
        )
        if "category" in output_schema.get("properties", {}):
            return self._tool_call(output_tool, {"category": "HOW_TO", "title": question[:40]})
        results = [m for m in turn if m["role"] == "tool"]
        if not results:
            return self._tool_call("search_docs", {"query": question})
        hits = json.loads(_text(results[-1]["content"]))
        if not hits:
            args = {
                "answer": "The documentation does not cover this.",
                "cited_chunk_ids": [],
                "covered": False,
            }
        else:
            args = {
                "answer": f"From the docs: {hits[0]['text']}",
                "cited_chunk_ids": [hits[0]["chunk_id"]],
                "covered": True,
            }
        return self._tool_call(output_tool, args)

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
