"""Faults with 100 questions in flight: ``make run`` killed with kill -9, and PostgreSQL restarted.

    uv run python bench/faults.py [--questions 100] [--model-seconds 3]

The product starts as ``make run`` starts it (``python -m chatbot.launcher``, its own cluster
under a copy of one prepared data directory, default settings except where the fakes are); the
fake Slack Web API and the fake model run in this process (``tests/process_faults.py``, shared
with the small versions in ``tests/test_process_faults.py``). For each fault:

- **kill -9**: post the questions, wait until at least half of them wait on the model, kill the
  product's process group with SIGKILL, start it again at once (the model now answers in
  0.2 s), and wait until every question has its answer in Slack;
- **PostgreSQL restart**: the same, but the product keeps running while its cluster is stopped
  (``pg_ctl stop -m fast``), left down 3 s while ``/healthz`` is polled, then started.

Reported: answered exactly once, lost, doubled (from the messages Slack holds, by their
``chatbot_answer`` metadata), the questions' statuses in the database, the time from the
restart to the last answer, and what ``/healthz`` said during the outage.
"""

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import process_faults  # noqa: E402
from tests.fakes.openai import FakeOpenAI  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402


async def run_fault(*, fault: str, template: Path, work: Path, questions: int, delay: float) -> str:
    slack, model = FakeSlack(), FakeOpenAI()
    await slack.start()
    await model.start()
    slug = fault.replace(" ", "-").replace("-9", "9")
    data_dir = work / slug
    process_faults.copy_data_dir(template, data_dir)
    env = process_faults.product_env(
        data_dir=data_dir, port=process_faults.free_port(), slack_url=slack.url, model_url=model.url
    )
    product = process_faults.Product(env=env, log=work / f"{slug}.log")
    threads = [process_faults.thread_of(n) for n in range(1, questions + 1)]
    during: list[int] = []
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            model.delay = delay
            product.start()
            await product.wait_ready(client)
            acks = await product.ask(client, count=questions, run=fault)
            await process_faults.wait_in_flight(model, count=questions // 2, seconds=120)
            in_flight = model.in_flight
            if fault == "kill -9":
                product.kill()
                model.delay = 0.2
                restarted = time.monotonic()
                product.start()
            else:
                database = process_faults.cluster(data_dir)
                await asyncio.to_thread(database.stop)
                for _ in range(6):
                    during.append((await client.get(f"{product.base}/healthz")).status_code)
                    await asyncio.sleep(0.5)
                await asyncio.to_thread(database.start)
                model.delay = 0.2
                restarted = time.monotonic()
            result = await process_faults.wait_answered(slack, threads, seconds=300)
        statuses = process_faults.question_statuses(data_dir=data_dir)
    finally:
        product.stop()
        await model.stop()
        await slack.stop()
    recovered = (
        f"{result.complete_at - restarted:.1f} s" if result.complete_at is not None else "never"
    )
    healthz = ", ".join(str(code) for code in sorted(set(during))) or "-"
    return (
        f"| {fault} | {questions} | {acks.count(200)} | {in_flight} | "
        f"{len(result.answered_once)} | {len(result.lost)} | {len(result.doubled)} | "
        f"{recovered} | {healthz} | {statuses} |"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--model-seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chatbot-faults-") as tmp:
        work = Path(tmp)
        started = time.monotonic()
        template = await asyncio.to_thread(process_faults.prepare_data_dir, work)
        process_faults.cluster(template).stop()
        print(f"data directory prepared in {time.monotonic() - started:.1f} s")
        rows = []
        for fault in ("kill -9", "PostgreSQL restart"):
            rows.append(
                await run_fault(
                    fault=fault,
                    template=template,
                    work=work,
                    questions=args.questions,
                    delay=args.model_seconds,
                )
            )
    print(f"\nMachine: {platform.machine()}, {platform.python_version()}")
    print(
        "| fault | questions | acked 200 | model calls in flight at the fault | answered once"
        " | lost | doubled | last answer after the restart | /healthz during the outage"
        " | statuses |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for row in rows:
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
