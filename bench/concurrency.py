"""Concurrency: a burst of Slack questions against the product as `make run` starts it.

    uv run python bench/concurrency.py [--questions 200 500] [--model-seconds 2]
        [--variants release naive] [--timeout 180] [--profile DIR]

For each variant and each N, in one run:

1. a fake OpenAI-compatible model (``--model-seconds`` per request; each answer is a
   ``search_docs`` tool call then the answer, which also labels the question) and a fake
   Slack Web API run in a subprocess of their own (``--serve-fakes``), never in the product's;
2. the product starts exactly as ``make run`` starts it, ``python -m chatbot.launcher``
   (local PostgreSQL cluster under ``CHATBOT_DATA_DIR``, migrations, the guide ingested, HTTP
   plus the in-process job worker), with default settings except where the fakes are and a
   free port. Each run gets a fresh copy of one migrated cluster, so jobs left by one run
   (retries of failed ones) never leak into the next; the product process is new each time;
3. one warm-up question is asked and answered (first-use imports and clients are not what we
   measure), then N signed ``app_mention`` events are posted at once to ``/slack/events``
   and the bench waits until every question is answered (the fake Slack saw the answer's
   message finished with its 👍/👎 buttons: ``chat.stopStream``, or ``chat.update`` /
   ``chat.postMessage`` where streaming failed) or ``--timeout`` passes.

Measured per run, from just before the burst to the last answer (or the timeout): wall time
from the first request sent to the last answer, peak PostgreSQL connections (pg_stat_activity,
sampled every 25 ms over the product's Unix socket), CPU of the product's Python process
(utime + stime from /proc, PostgreSQL's processes excluded) per question, peak threads and
peak RSS of that process (sampled), ack latency p50/p99 and non-200 acks.

Variants: ``release`` (defaults: idle connections go back to the pool, jobs share
CHATBOT_DATABASE_THREADS threads) and ``naive`` (CHATBOT_RELEASE_IDLE_CONNECTIONS=false: a
thread and a connection per job for its whole life).

``--profile DIR`` also records the product with py-spy during each burst (py-spy must be on
PATH or in the venv, e.g. ``uv pip install py-spy``; it is not a dependency) and prints where
the CPU went, by module. Profiling slows the product down: use it apart from the timed runs.
"""

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

from tests import process_faults  # noqa: E402
from tests.fakes.slack import signed_headers  # noqa: E402

MODEL_NAME = "fake-model"  # what tests/process_faults.product_env configures
CHANNEL = "CBENCH"
WARMUP_CHANNEL = "CWARMUP"
SAMPLE_SECONDS = 0.025
TARGET_WALL = {200: 10.0, 500: 20.0}
TARGET_CONNECTIONS = 15  # Django's pool of 10 + the worker's own pool of up to 4 (+ slack)
TARGET_CPU_MS = 25.0


# --- The fakes' process -------------------------------------------------------------------


async def _serve_fakes(model_seconds: float, stream_piece: int) -> None:
    """Run the fake model and fake Slack until killed; print their URLs as one JSON line.

    A third little server answers ``GET /stats`` for the bench: answered threads per channel
    (the time the answer's message was finished, on the shared monotonic clock), apologies,
    model requests and the most in flight at once.
    """
    from aiohttp import web

    from tests.fakes.openai import FakeOpenAI
    from tests.fakes.slack import FakeSlack

    answered: dict[str, dict[str, float]] = collections.defaultdict(dict)
    apologised: dict[str, set[str]] = collections.defaultdict(set)
    refused: collections.Counter[str] = collections.Counter()

    class CountingSlack(FakeSlack):
        def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
            result = super()._answer(method, params)
            if not result.get("ok"):
                refused[f"{method}:{result.get('error')}"] += 1
                return result
            if method in ("chat.stopStream", "chat.update", "chat.postMessage"):
                message = self.messages.get(str(result.get("ts") or params.get("ts")))
                if message is not None:
                    finished = any(b.get("block_id") == "feedback" for b in message.blocks)
                    if finished:
                        answered[message.channel].setdefault(message.thread_ts, time.monotonic())
                    elif method == "chat.update" or (
                        method == "chat.postMessage" and not message.blocks
                    ):
                        apologised[message.channel].add(message.thread_ts)
            return result

    model = FakeOpenAI()
    model.delay = model_seconds
    # The whole answer arrives at model_seconds, in pieces of stream_piece characters.
    model.stream_pause = 0.0
    model.stream_piece = stream_piece
    await model.start()
    slack = CountingSlack()
    await slack.start()

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "answered": {channel: len(threads) for channel, threads in answered.items()},
                "last_answer_at": {
                    channel: max(threads.values()) for channel, threads in answered.items()
                },
                "apologised": {channel: len(threads) for channel, threads in apologised.items()},
                "slack_calls": len(slack.calls),
                "slack_refused": dict(refused),
                "model_requests": len(model.requests),
                "model_max_in_flight": model.max_in_flight,
            }
        )

    app = web.Application()
    app.router.add_get("/stats", stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(
        json.dumps(
            {"model": model.url, "slack": slack.url, "stats": f"http://127.0.0.1:{port}/stats"}
        ),
        flush=True,
    )
    await asyncio.Event().wait()  # until the bench terminates this process


# --- The product's process ----------------------------------------------------------------


def _product_env(*, data_dir: Path, port: int, fakes: dict[str, str], variant: str) -> dict:
    """Default settings, except where the fakes are (and, for ``naive``, connections held)."""
    env = process_faults.product_env(
        data_dir=data_dir, port=port, slack_url=fakes["slack"], model_url=fakes["model"]
    )
    if variant == "naive":
        env["CHATBOT_RELEASE_IDLE_CONNECTIONS"] = "false"
    return env


def _children(pid: int) -> list[int]:
    """All descendants of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = collections.defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _python_pids(root: int) -> list[int]:
    """The launcher and any Python process it started; not PostgreSQL's."""
    pids = []
    for pid in [root, *_children(root)]:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text().strip().startswith("python"):
                pids.append(pid)
    return pids


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _status(pids: list[int]) -> tuple[int, int]:
    """Threads and RSS (KiB), summed over ``pids``."""
    threads = rss = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("Threads:"):
                    threads += int(line.split()[1])
                elif line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
    return threads, rss


class Sampler(threading.Thread):
    """Peaks of PostgreSQL connections, threads and RSS, sampled every SAMPLE_SECONDS."""

    def __init__(self, *, database_url: str, pids: list[int]) -> None:
        super().__init__(daemon=True, name="sampler")
        self.database_url = database_url
        self.pids = pids
        self.stop = threading.Event()
        self.connections = 0
        self.clients = 0  # client backends only (not autovacuum and other PostgreSQL workers)
        self.threads = 0
        self.rss_kib = 0
        self.samples = 0
        self.error = ""
        # What the sessions were at the peak: backend type / state / the start of the query.
        self.at_peak: collections.Counter[str] = collections.Counter()

    def run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                while not self.stop.is_set():
                    sessions = conn.execute(
                        "SELECT backend_type, state, left(regexp_replace(query, '\\s+', ' ', "
                        "'g'), 30) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    ).fetchall()
                    threads, rss = _status(self.pids)
                    clients = sum(1 for session in sessions if session[0] == "client backend")
                    self.clients = max(self.clients, clients)
                    if len(sessions) > self.connections:
                        self.connections = len(sessions)
                        self.at_peak = collections.Counter(
                            " / ".join(str(field) for field in session) for session in sessions
                        )
                    self.threads = max(self.threads, threads)
                    self.rss_kib = max(self.rss_kib, rss)
                    self.samples += 1
                    self.stop.wait(SAMPLE_SECONDS)
        except Exception as error:  # reported in the table's notes, never hidden
            self.error = f"{type(error).__name__}: {error}"


def _signed(body: str) -> dict[str, str]:
    secret = process_faults.SIGNING_SECRET
    return {"Content-Type": "application/json", **signed_headers(body=body, secret=secret)}


@dataclasses.dataclass
class Result:
    variant: str
    questions: int
    answered: int = 0
    apologised: int = 0
    wall: float | None = None  # None: not every question answered before the timeout
    elapsed: float = 0.0
    connections: int = 0
    clients: int = 0
    cpu_ms_per_question: float = 0.0
    threads: int = 0
    rss_mib: float = 0.0
    ack_p50_ms: float = 0.0
    ack_p99_ms: float = 0.0
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    statuses: dict[str, int] = dataclasses.field(default_factory=dict)
    model_max_in_flight: int = 0
    notes: list[str] = dataclasses.field(default_factory=list)
    log: Path = Path()


@contextlib.contextmanager
def fakes_running(model_seconds: float, stream_piece: int) -> Iterator[dict[str, str]]:
    process = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve-fakes",
            str(model_seconds),
            "--stream-piece",
            str(stream_piece),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the fakes' process ended before saying where it listens")
        yield json.loads(line)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def product_running(env: dict[str, str], log: Path, data_dir: Path) -> Iterator[int]:
    """``python -m chatbot.launcher``, as ``make run`` execs it; stopped with SIGTERM."""
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "chatbot.launcher"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process.pid
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                # Running jobs get CHATBOT_WORKER_SHUTDOWN_TIMEOUT (30 s) to finish.
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                _stop_cluster(data_dir)


def _stop_cluster(data_dir: Path) -> None:
    """A launcher that had to be killed leaves its PostgreSQL running: stop it."""
    from chatbot import embedded_postgres

    cluster = embedded_postgres.Cluster(
        data_dir=data_dir / "postgres",
        socket_dir=data_dir / "run",
        bin_dir=embedded_postgres.find_bin_dir(),
    )
    with contextlib.suppress(embedded_postgres.PostgresFailed):
        cluster.stop()


async def _get_json(client: Any, url: str) -> dict[str, Any]:
    response = await client.get(url)
    return dict(response.json())


def _worker_started(log: Path, pid: int) -> bool:
    if not Path(f"/proc/{pid}").exists():
        raise RuntimeError(f"the product exited during start-up; see {log}")
    return "Job worker running" in log.read_text(errors="replace")


async def _wait_ready(client: Any, base: str, log: Path, pid: int, *, seconds: float) -> None:
    """``/healthz`` answers 200 and the log says the job worker runs."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        healthy = False
        with contextlib.suppress(Exception):
            healthy = (await client.get(f"{base}/healthz")).status_code == 200
        if healthy and await asyncio.to_thread(_worker_started, log, pid):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the product was not ready within {seconds:.0f} s; see {log}")


async def _post(client: Any, url: str, body: str) -> tuple[int | str, float]:
    started = time.monotonic()
    try:
        response = await client.post(url, content=body, headers=_signed(body))
        status: int | str = response.status_code
    except Exception as error:
        status = type(error).__name__
    return status, time.monotonic() - started


async def _wait_answered(
    client: Any, stats_url: str, channel: str, count: int, deadline: float
) -> dict[str, Any]:
    while True:
        stats = await _get_json(client, stats_url)
        if stats["answered"].get(channel, 0) >= count or time.monotonic() >= deadline:
            return stats
        await asyncio.sleep(0.05)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(
    *,
    variant: str,
    questions: int,
    model_seconds: float,
    stream_piece: int,
    template: Path,
    work: Path,
    limit: float,
    profile: Path | None,
) -> Result:
    import httpx

    run = f"{variant}{questions}"
    result = Result(variant=variant, questions=questions, log=work / f"product-{run}.log")
    data_dir = work / f"data-{run}"
    await asyncio.to_thread(process_faults.copy_data_dir, template, data_dir)
    port = process_faults.free_port()
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    with (
        fakes_running(model_seconds, stream_piece) as fakes,
        product_running(
            _product_env(data_dir=data_dir, port=port, fakes=fakes, variant=variant),
            result.log,
            data_dir,
        ) as pid,
    ):
        async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:
            await _wait_ready(client, base, result.log, pid, seconds=180)
            # One question first: first-use imports and clients are not the burst's cost.
            status, _ = await _post(
                client,
                f"{base}/slack/events",
                process_faults.mention_body(channel=WARMUP_CHANNEL, number=0, run=run),
            )
            warm = await _wait_answered(
                client, fakes["stats"], WARMUP_CHANNEL, 1, time.monotonic() + 60
            )
            if status != 200 or not warm["answered"].get(WARMUP_CHANNEL):
                result.notes.append(f"warm-up question not answered (ack {status})")

            bodies = [
                process_faults.mention_body(channel=CHANNEL, number=n, run=run)
                for n in range(questions)
            ]
            pids = _python_pids(pid)
            sampler = Sampler(
                database_url=process_faults.cluster(data_dir).url(dbname="chatbot"), pids=pids
            )
            sampler.start()
            spy = _start_py_spy(pid, profile / f"profile-{run}.txt") if profile else None
            await asyncio.sleep(0.2)  # a few samples before the burst
            cpu_before = _cpu_seconds(pids)
            started = time.monotonic()
            acks = await asyncio.gather(
                *(_post(client, f"{base}/slack/events", body) for body in bodies)
            )
            stats = await _wait_answered(
                client, fakes["stats"], CHANNEL, questions, started + limit
            )
            ended = time.monotonic()
            cpu_after = _cpu_seconds(pids)
            sampler.stop.set()
            sampler.join()
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
            result.statuses = process_faults.question_statuses(data_dir=data_dir)

    result.answered = stats["answered"].get(CHANNEL, 0)
    result.apologised = stats["apologised"].get(CHANNEL, 0)
    result.elapsed = ended - started
    if result.answered >= questions:
        result.wall = stats["last_answer_at"][CHANNEL] - started
    result.connections = sampler.connections
    result.clients = sampler.clients
    result.threads = sampler.threads
    result.rss_mib = sampler.rss_kib / 1024
    result.cpu_ms_per_question = 1000 * (cpu_after - cpu_before) / questions
    latencies = [seconds * 1000 for _, seconds in acks]
    result.ack_p50_ms = _percentile(latencies, 0.50)
    result.ack_p99_ms = _percentile(latencies, 0.99)
    result.errors = dict(collections.Counter(str(s) for s, _ in acks if s != 200))
    result.model_max_in_flight = stats["model_max_in_flight"]
    peak = ", ".join(f"{n}x {what}" for what, n in sampler.at_peak.most_common())
    result.notes.append(f"PostgreSQL sessions at the peak: {peak}")
    if sampler.error:
        result.notes.append(f"sampler: {sampler.error}")
    if stats["slack_refused"]:
        result.notes.append(f"Slack calls refused: {stats['slack_refused']}")
    result.notes.extend(_log_problems(result.log))
    shutil.rmtree(data_dir, ignore_errors=True)
    return result


def _log_problems(log: Path) -> list[str]:
    """The product's ERROR and WARNING lines, by message (ids and numbers folded)."""
    counts: collections.Counter[str] = collections.Counter()
    for line in log.read_text(errors="replace").splitlines():
        match = re.search(r" (ERROR|WARNING|CRITICAL) \[[^\]]*\] (.*)", line)
        if match:
            text = re.sub(r"\d+(\.\d+)?", "N", match.group(2))[:160]
            counts[f"{match.group(1)} {text}"] += 1
    return [f"{count}x {text}" for text, count in counts.most_common(6)]


def prepare_template(work: Path) -> Path:
    """A cluster created, migrated and holding the guide once; each run starts from a copy."""
    started = time.monotonic()
    template = process_faults.prepare_data_dir(work)
    print(f"template data directory prepared in {time.monotonic() - started:.1f} s")
    return template


# --- Profiling ----------------------------------------------------------------------------


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("--profile needs py-spy: uv pip install py-spy")
    return found


def _start_py_spy(pid: int, output: Path) -> subprocess.Popen[bytes]:
    command = [_py_spy(), "record", "--pid", str(pid), "--subprocesses", "--format", "raw"]
    # Only samples holding the GIL: the product is one Python process, so that is its CPU
    # (waiting threads would otherwise count). Not pausing it keeps the burst close to normal.
    command += ["--gil", "--nonblocking", "--rate", "100", "--output", str(output)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    return process


# py-spy names files by module path ("pydantic_ai/run.py", "asyncio/events.py"). A sample's
# CPU goes to the package of its innermost frame, except that these general helpers pass it
# on to their caller (a dataclass __init__ runs as "<string>", on behalf of whoever called it).
_HELPERS = frozenset(
    {
        "<string>", "typing", "dataclasses", "contextlib", "copy", "enum", "inspect", "abc",
        "functools", "collections", "weakref", "_weakrefset", "types", "contextvars", "re",
    }
)  # fmt: skip
_PRODUCT = frozenset({"chatbot", "application", "domain", "data"})


def _frame_file(frame: str) -> str:
    match = re.search(r"\(([^()]*):\d+\)$", frame)
    return match.group(1) if match else frame


def _package(frame: str) -> str:
    top = _frame_file(frame).split("/", 1)[0]
    return top.removesuffix(".py")


def _owner(stack: list[str]) -> str:
    for frame in reversed(stack):
        package = _package(frame)
        if package not in _HELPERS:
            return f"product: {package}" if package in _PRODUCT else package
    return _package(stack[-1]) if stack else "?"


# Whole activities, by any frame in the stack (a sample may count under several). Async
# stacks start at the event loop's Handle._run: a coroutine's callers are in its stack only
# while they await it directly.
_ACTIVITIES = [
    ("HTTP: uvicorn + Django ASGI handler (ack path)", r"^(uvicorn|django/core/handlers)/"),
    ("  of which slack_bolt", r"^slack_bolt/"),
    ("  of which Django middleware", r"^django/(middleware|contrib/(sessions|auth|messages))/"),
    ("Jobs: procrastinate (fetching, running, finishing)", r"^procrastinate/"),
    ("Answer job: application/answering/", r"^application/answering/"),
    ("pydantic-ai (agent graph, streaming, messages)", r"^pydantic_ai/"),
    ("openai client", r"^openai/"),
    ("httpx2 / httpcore2 / h11 / anyio (model HTTP)", r"^(httpx|httpcore|h11|anyio)2?/"),
    ("Slack client: slack_sdk + aiohttp", r"^(slack_sdk|aiohttp)/"),
    ("Django ORM (django/db)", r"^django/db/"),
    ("psycopg + psycopg_pool", r"^psycopg"),
    ("asgiref (sync_to_async, thread hops)", r"^asgiref/"),
    ("database threads (concurrent.futures workers)", r"^concurrent/futures/thread\.py"),
    ("logging", r"^logging/"),
    ("json", r"^json/"),
    ("pydantic / pydantic_core", r"^pydantic(_core)?/"),
    ("product code (chatbot, application, domain, data)", r"^(chatbot|application|domain|data)/"),
]


def summarise_profile(path: Path, top: int = 18) -> str:
    owners: collections.Counter[str] = collections.Counter()
    activities: collections.Counter[str] = collections.Counter()
    functions: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        stack = [f for f in stack_text.split(";") if not f.startswith(("process ", "thread "))]
        total += count
        owners[_owner(stack)] += count
        if stack:
            functions[re.sub(r":\d+\)$", ")", stack[-1])] += count
        for label, pattern in _ACTIVITIES:
            if any(re.search(pattern, _frame_file(f)) for f in stack):
                activities[label] += count
    if not total:
        return f"{path}: no samples"
    lines = [f"\n{path}: {total} samples (holding the GIL)\n"]
    lines += ["| self CPU by module | share |", "| --- | ---: |"]
    lines += [f"| {name} | {100 * n / total:.1f}% |" for name, n in owners.most_common(top)]
    lines += ["", "| inclusive CPU by activity | share |", "| --- | ---: |"]
    lines += [f"| {name} | {100 * activities[name] / total:.1f}% |" for name, _ in _ACTIVITIES]
    lines += ["", "| hottest functions (self) | share |", "| --- | ---: |"]
    lines += [
        f"| `{name.replace('|', '/')}` | {100 * n / total:.1f}% |"
        for name, n in functions.most_common(top)
    ]
    return "\n".join(lines)


# --- Report -------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}"


def _mark(ok: bool) -> str:
    return "" if ok else " ✗"


def table(results: list[Result], model_seconds: float) -> str:
    lines = [
        "| variant | questions | answered | wall time | peak PG connections (client backends) "
        "| product CPU "
        "ms/question | peak threads | peak RSS | ack p50 | ack p99 | ack errors | "
        "model calls in flight (max) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for r in results:
        target = TARGET_WALL.get(r.questions)
        if r.wall is None:
            wall = f"not done after {r.elapsed:.0f} s ✗"
        else:
            wall = f"{r.wall:.1f} s" + _mark(target is None or r.wall <= target)
        errors = ", ".join(f"{n}x {s}" for s, n in r.errors.items()) or "0"
        answered = f"{r.answered}" + (f" ({r.apologised} apologies)" if r.apologised else "")
        lines.append(
            f"| {r.variant} | {r.questions} | {answered} | {wall} "
            f"| {r.connections}{_mark(r.connections <= TARGET_CONNECTIONS)} ({r.clients}) "
            f"| {r.cpu_ms_per_question:.1f}{_mark(r.cpu_ms_per_question <= TARGET_CPU_MS)} "
            f"| {r.threads} | {r.rss_mib:.0f} MiB | {r.ack_p50_ms:.0f} ms | {r.ack_p99_ms:.0f} ms "
            f"| {errors} | {r.model_max_in_flight} |"
        )
    targets = ", ".join(f"{n} questions <= {s:.0f} s" for n, s in TARGET_WALL.items())
    lines += [
        "",
        f"Targets: wall time {targets}; peak PostgreSQL connections <= {TARGET_CONNECTIONS} "
        f"(Django's pool of 10 + the worker's own pool of up to 4, and one to spare); "
        f"product CPU <= {TARGET_CPU_MS:.0f} ms per question; ✗ marks a miss. "
        f"Model: {model_seconds:g} s per request, 2 requests per answer (search_docs, then "
        f"the answer, streamed, which also labels the question).",
        f"Machine: {machine()}.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, nargs="+", default=[200, 500])
    parser.add_argument("--model-seconds", type=float, default=2.0)
    parser.add_argument("--variants", nargs="+", choices=["release", "naive"])
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per burst")
    parser.add_argument("--profile", type=Path, help="record each burst with py-spy into DIR")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    parser.add_argument(
        "--stream-piece",
        type=int,
        default=16,
        help="characters per streamed chunk of the model's answer (16 is about 4 tokens)",
    )
    parser.add_argument("--serve-fakes", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fakes is not None:
        asyncio.run(_serve_fakes(args.serve_fakes, args.stream_piece))
        return 0
    variants = args.variants or ["release", "naive"]
    if args.profile:
        _py_spy()
        args.profile.mkdir(parents=True, exist_ok=True)

    work = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    print(f"machine: {machine()}; work directory {work}")
    results: list[Result] = []
    try:
        template = prepare_template(work)
        for questions in args.questions:
            for variant in variants:
                print(f"running {variant} with {questions} questions ...", flush=True)
                result = asyncio.run(
                    measure(
                        variant=variant,
                        questions=questions,
                        model_seconds=args.model_seconds,
                        stream_piece=args.stream_piece,
                        template=template,
                        work=work,
                        limit=args.timeout,
                        profile=args.profile,
                    )
                )
                results.append(result)
                print(table([result], args.model_seconds).split("\n\n")[0])
                for note in result.notes:
                    print(f"  {note}")
                print(f"  question statuses in the database: {result.statuses}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print("\n" + table(results, args.model_seconds))
    for result in results:
        if result.notes:
            print(f"\n{result.variant}, {result.questions} questions, the product's log:")
            print("\n".join(f"- {note}" for note in result.notes))
    if args.profile:
        for path in sorted(args.profile.glob("profile-*.txt")):
            print(summarise_profile(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
