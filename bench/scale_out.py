"""500 questions through the scaled-out layout, beside one ``make run`` process on the same load.

    uv run python bench/scale_out.py [--questions 500] [--model-seconds 1] [--pool-size 20]

Scaled out (``tests/scale_out.py``, shared with the small version in
``tests/test_scale_out.py``): PostgreSQL, PgBouncer in transaction mode with a server pool of
``--pool-size``, two ``manage.py serve --no-worker`` behind a round-robin, two ``manage.py
procrastinate worker``; one worker is killed with SIGKILL once half the questions are answered.
Single: ``python -m chatbot.launcher`` (``make run``) with its defaults. Both get the same
signed mentions at once; the fake model answers each call after ``--model-seconds``.

Reported for each: acks, answered exactly once / lost / doubled (from the messages the fake
Slack holds), wall time from the first mention to the last answer, throughput, and the peak of
PostgreSQL server connections to the product's database (``pg_stat_activity``, every 0.1 s).
"""

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import process_faults, scale_out  # noqa: E402
from tests.fakes.openai import FakeOpenAI  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402


def row(
    *,
    layout: str,
    questions: int,
    acks: list[int],
    result: process_faults.Tally,
    started: float,
    peak: int,
    note: str,
) -> str:
    wall = (result.complete_at - started) if result.complete_at is not None else None
    wall_text = f"{wall:.1f} s" if wall else "not all answered"
    rate = f"{len(result.answered_once) / wall:.1f}/s" if wall else "-"
    return (
        f"| {layout} | {questions} | {acks.count(200)} | {len(result.answered_once)} | "
        f"{len(result.lost)} | {len(result.doubled)} | {wall_text} | {rate} | {peak} | {note} |"
    )


async def half_answered(slack: FakeSlack, threads: list[str], *, seconds: float = 900) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(process_faults.tally(slack, threads).answered_once) >= len(threads) // 2:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("half the questions were not answered in time")


async def run_scaled(*, template: Path, work: Path, questions: int, delay: float, pool: int) -> str:
    slack, model = FakeSlack(), FakeOpenAI()
    await slack.start()
    await model.start()
    model.delay = delay
    layout = scale_out.ScaledOut(
        work=work, template=template, slack_url=slack.url, model_url=model.url, pool_size=pool
    )
    sampler = scale_out.ConnectionSampler(cluster=layout.cluster)
    threads = [process_faults.thread_of(n) for n in range(1, questions + 1)]
    try:
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=200)) as c:
            await layout.start(c)
            sampler.start()
            started = time.monotonic()
            acks = await scale_out.ask_round_robin(c, bases=layout.bases, count=questions, run="b")
            await half_answered(slack, threads)
            busiest, running = layout.busiest_worker()
            layout.workers[busiest].kill()
            result = await process_faults.wait_answered(slack, threads, seconds=900)
            await sampler.stop()
        killed = scale_out.job_statuses(cluster=layout.cluster, ids=running)
    finally:
        await sampler.stop()
        layout.stop()
        await model.stop()
        await slack.stop()
    return row(
        layout=f"2 web + 2 workers, PgBouncer pool {pool}",
        questions=questions,
        acks=[code for codes in acks.values() for code in codes],
        result=result,
        started=started,
        peak=sampler.peak,
        note=f"worker killed at half: {len(running)} of its answers running, then {killed}",
    )


async def run_single(*, template: Path, work: Path, questions: int, delay: float) -> str:
    slack, model = FakeSlack(), FakeOpenAI()
    await slack.start()
    await model.start()
    model.delay = delay
    data_dir = work / "single"
    process_faults.copy_data_dir(template, data_dir)
    env = process_faults.product_env(
        data_dir=data_dir, port=process_faults.free_port(), slack_url=slack.url, model_url=model.url
    )
    product = process_faults.Product(env=env, log=work / "single.log")
    sampler = scale_out.ConnectionSampler(cluster=process_faults.cluster(data_dir))
    threads = [process_faults.thread_of(n) for n in range(1, questions + 1)]
    try:
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=200)) as c:
            product.start()
            await product.wait_ready(c)
            sampler.start()
            started = time.monotonic()
            acks = await product.ask(c, count=questions, run="b")
            result = await process_faults.wait_answered(slack, threads, seconds=900)
            await sampler.stop()
    finally:
        await sampler.stop()
        product.stop()
        await model.stop()
        await slack.stop()
    return row(
        layout="make run (one process)",
        questions=questions,
        acks=acks,
        result=result,
        started=started,
        peak=sampler.peak,
        note="no kill",
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--model-seconds", type=float, default=1.0)
    parser.add_argument("--pool-size", type=int, default=20)
    args = parser.parse_args()
    if scale_out.find_pgbouncer() is None:
        print("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
        return 1
    with tempfile.TemporaryDirectory(prefix="chatbot-scale-out-") as tmp:
        work = Path(tmp)
        template = await asyncio.to_thread(process_faults.prepare_data_dir, work / "prepare")
        process_faults.cluster(template).stop()
        rows = [
            await run_scaled(
                template=template,
                work=work / "scaled",
                questions=args.questions,
                delay=args.model_seconds,
                pool=args.pool_size,
            ),
            await run_single(
                template=template, work=work, questions=args.questions, delay=args.model_seconds
            ),
        ]
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; model {args.model_seconds} s per call"
    )
    print(
        "| layout | questions | acked 200 | answered once | lost | doubled | wall time"
        " | throughput | peak server connections | notes |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for line in rows:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
