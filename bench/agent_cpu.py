"""CPU per answer in the model layer: the answer agent (pydantic-ai) next to the same HTTP by hand.

    uv run python bench/agent_cpu.py [--runs 60] [--pieces 16 4]

Why: issue 11 asks for at most 25 ms of product CPU per question. This measures the part of
that budget the model layer takes on its own, with nothing else in the process: no database,
no Slack, no jobs.

The fake OpenAI-compatible model (``tests/fakes/openai.py``: a ``search_docs`` tool call, then
the answer through the output tool, quoting a passage) runs in a subprocess of its own, with no
delay, so only this process's CPU is counted. For each variant the same question is answered
``--runs`` times one after another (after a warm-up), and the CPU time of this process
(``time.process_time``) is divided by the runs:

- ``agent, streamed in P-character pieces``: ``answer_agent.agent.run`` with an
  ``event_stream_handler``, as the product runs it. The model's answer arrives in pieces of P
  characters (16 is about 4 tokens; hosted models send about one token, P = 4, per chunk);
- ``agent, not streamed``: the same agent without a handler, so pydantic-ai asks for whole
  responses;
- ``httpx by hand``: the same two requests made with one ``httpx.AsyncClient``, the first
  read as JSON, the second streamed and its server-sent events parsed with ``json.loads``:
  what the HTTP and JSON alone cost in Python, the floor under any client library.

The ratios say how much of the agent's CPU is the library's own machinery.
"""

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterable, Awaitable, Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

QUESTION = "How do I roll back a deploy?"
PASSAGE = "Run make rollback from the release directory, then check the health page. " * 8


async def _serve_fake(piece: int) -> None:
    from tests.fakes.openai import FakeOpenAI

    model = FakeOpenAI()
    model.stream_pause = 0.0
    model.stream_piece = piece
    await model.start()
    print(model.url, flush=True)
    await asyncio.Event().wait()


@contextlib.contextmanager
def _fake_model(piece: int) -> Any:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-fake", str(piece)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.kill()
        process.wait()


async def _cpu_ms_per_run(run: Callable[[], Awaitable[None]], *, runs: int) -> float:
    for _ in range(5):
        await run()
    started = time.process_time()
    for _ in range(runs):
        await run()
    return 1000 * (time.process_time() - started) / runs


async def _agent_runs(url: str, *, runs: int, streamed: bool) -> float:
    from pydantic_ai import RunContext
    from pydantic_ai.messages import AgentStreamEvent
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider
    from pydantic_ai.settings import ModelSettings

    from application.answering import agent as answer_agent

    model = OpenAIChatModel("fake-model", provider=OpenAIProvider(base_url=url, api_key="sk"))
    model_settings = ModelSettings(timeout=30, max_retries=0)

    async def search(*, query: str, limit: int) -> list[answer_agent.Passage]:
        return [
            answer_agent.Passage(
                chunk_id=n,
                title="Deploying",
                heading_path="Rollbacks",
                url="",
                text=PASSAGE,
                score=1,
            )
            for n in range(limit)
        ]

    async def relay(
        ctx: RunContext[answer_agent.AnswerDeps], events: AsyncIterable[AgentStreamEvent]
    ) -> None:
        async for _ in events:
            pass

    async def run() -> None:
        result = await answer_agent.agent.run(
            QUESTION,
            model=model,
            deps=answer_agent.AnswerDeps(search=search),
            model_settings=model_settings,
            event_stream_handler=relay if streamed else None,
        )
        assert result.output.covered

    return await _cpu_ms_per_run(run, runs=runs)


async def _by_hand(url: str, *, runs: int) -> float:
    import httpx

    tools = [
        {"type": "function", "function": {"name": "search_docs", "parameters": {}}},
        {"type": "function", "function": {"name": "final_result", "parameters": {}}},
    ]
    hits = [{"chunk_id": n, "title": "Deploying", "text": PASSAGE} for n in range(5)]

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def run() -> None:
            messages: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
            first = await client.post(
                "/chat/completions", json={"model": "m", "messages": messages, "tools": tools}
            )
            call = first.json()["choices"][0]["message"]["tool_calls"][0]
            messages += [
                {"role": "assistant", "tool_calls": [call]},
                {"role": "tool", "tool_call_id": call["id"], "content": json.dumps(hits)},
            ]
            body = {"model": "m", "messages": messages, "tools": tools, "stream": True}
            arguments = ""
            async with client.stream("POST", "/chat/completions", json=body) as response:
                async for line in response.aiter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    for choice in json.loads(line[6:]).get("choices", []):
                        for tool_call in choice["delta"].get("tool_calls") or []:
                            arguments += tool_call["function"].get("arguments") or ""
            assert json.loads(arguments)["covered"]

        return await _cpu_ms_per_run(run, runs=runs)


async def _measure(*, runs: int, pieces: list[int]) -> list[tuple[str, float]]:
    rows: list[tuple[str, float]] = []
    with _fake_model(10**9) as url:
        rows.append(("agent, not streamed", await _agent_runs(url, runs=runs, streamed=False)))
    for piece in pieces:
        with _fake_model(piece) as url:
            agent = await _agent_runs(url, runs=runs, streamed=True)
            rows.append((f"agent, streamed in {piece}-character pieces", agent))
            hand = await _by_hand(url, runs=runs)
            rows.append((f"httpx by hand, streamed in {piece}-character pieces", hand))
    return rows


def _machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--pieces", type=int, nargs="+", default=[16, 4])
    parser.add_argument("--serve-fake", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake is not None:
        asyncio.run(_serve_fake(args.serve_fake))
        return 0
    rows = asyncio.run(_measure(runs=args.runs, pieces=args.pieces))
    floor = {label.split(", ", 1)[1]: ms for label, ms in rows if label.startswith("httpx")}
    print("| variant | CPU ms per answer (2 model requests) | x httpx by hand |")
    print("| --- | ---: | ---: |")
    for label, ms in rows:
        kind = label.split(", ", 1)[1]
        ratio = f"{ms / floor[kind]:.1f}x" if kind in floor else ""
        print(f"| {label} | {ms:.1f} | {ratio} |")
    print(f"\n{args.runs} answers per variant, one after another. Machine: {_machine()}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
