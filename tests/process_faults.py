"""The product as ``make run`` runs it, killed (kill -9) or cut off from PostgreSQL mid-burst.

Shared by ``tests/test_process_faults.py`` (a small burst, in the suite) and
``bench/faults.py`` (100 questions in flight). The fake Slack Web API and the fake model run in
the caller's event loop; the product is ``python -m chatbot.launcher`` in a process of its own
(its own PostgreSQL cluster under a data directory, migrations, the guide ingested, HTTP and
the in-process job worker), started from a copy of one prepared data directory.

An answer is counted from what Slack holds, not from the product's database: a finished
message (``chat.stopStream``, ``chat.update`` or ``chat.postMessage``) that carries the
``chatbot_answer`` metadata, one per question and part. A question with none is lost; a
question with a part posted twice, or with two first parts, is doubled.
"""

import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from chatbot import embedded_postgres
from tests.fakes.openai import FakeOpenAI
from tests.fakes.slack import BOT_USER_ID, TEAM_ID, FakeSlack, signed_headers

ROOT = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "faults-signing-secret"
CHANNEL = "CFAULTS"
QUESTION = "How do I connect the bot to Slack?"

# What the product must not inherit from the shell or the test run: its settings are the
# defaults, except where the fakes are.
_PRODUCT_PREFIXES = ("CHATBOT_", "DATABASE_", "DJANGO_", "SLACK_", "OPENAI_", "ANTHROPIC_")
_PRODUCT_NAMES = ("LOG_LEVEL", "HOST", "PORT", "TIME_ZONE", "DJANGO_SETTINGS_MODULE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def product_env(*, data_dir: Path, port: int, slack_url: str, model_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_PRODUCT_PREFIXES) and key not in _PRODUCT_NAMES
    }
    env.update(
        CHATBOT_DATA_DIR=str(data_dir),
        PORT=str(port),
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN="xoxb-faults-token",
        SLACK_API_URL=slack_url,
        CHATBOT_MODEL="openai-chat:fake-model",
        OPENAI_BASE_URL=model_url,
        OPENAI_API_KEY="test",
    )
    return env


def prepare_data_dir(work: Path) -> Path:
    """A data directory whose cluster is created, migrated and holds the guide; runs copy it."""
    template = work / "template"
    env = product_env(data_dir=template, port=0, slack_url="", model_url="")
    for command in (["migrate", "--verbosity", "0"], ["ingest_guide"]):
        if command == ["ingest_guide"]:
            # What the launcher does before serving, so a run's first start is quick.
            command = ["shell", "-c", "from chatbot.launcher import ingest_guide; ingest_guide()"]
        completed = subprocess.run(
            [sys.executable, "-m", "chatbot.launcher", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"preparing {template} failed:\n{completed.stderr[-3000:]}")
    return template


def copy_data_dir(template: Path, data_dir: Path) -> None:
    # `cp -a` keeps the owners: the cluster's files belong to the postgres user when run as root.
    subprocess.run(["cp", "-a", str(template), str(data_dir)], check=True)


def cluster(data_dir: Path) -> embedded_postgres.Cluster:
    return embedded_postgres.Cluster(
        data_dir=data_dir / "postgres",
        socket_dir=data_dir / "run",
        bin_dir=embedded_postgres.find_bin_dir(),
    )


def mention_body(*, number: int, run: str, channel: str = CHANNEL) -> str:
    ts = f"1700000000.{number:06d}"
    return json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "A1",
            "event": {
                "type": "app_mention",
                "user": f"U{number:06d}",
                "text": f"<@{BOT_USER_ID}> {QUESTION} ({run} #{number})",
                "ts": ts,
                "channel": channel,
                "team": TEAM_ID,
                "event_ts": ts,
            },
            "type": "event_callback",
            "event_id": f"Ev{run}{channel}{number}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
    )


def thread_of(number: int) -> str:
    return f"1700000000.{number:06d}"


@dataclasses.dataclass
class Tally:
    """What Slack holds for each question's thread."""

    answered_once: list[str]
    lost: list[str]
    doubled: list[str]
    complete_at: float | None = None  # time.monotonic() when no question was left unanswered


def tally(fake_slack: FakeSlack, threads: list[str]) -> Tally:
    once, lost, doubled = [], [], []
    for thread in threads:
        parts: Counter[tuple[Any, Any]] = Counter()
        for message in fake_slack.replies(thread_ts=thread):
            metadata = message.metadata or {}
            if message.stopped and metadata.get("event_type") == "chatbot_answer":
                payload = metadata.get("event_payload") or {}
                parts[(payload.get("question_id"), payload.get("part"))] += 1
        questions = {question for question, part in parts if part == 0}
        if not parts:
            lost.append(thread)
        elif len(questions) > 1 or any(count > 1 for count in parts.values()):
            doubled.append(thread)
        else:
            once.append(thread)
    return Tally(answered_once=once, lost=lost, doubled=doubled)


class Product:
    """``python -m chatbot.launcher`` in a session of its own, with its output in ``log``."""

    def __init__(self, *, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.base = f"http://127.0.0.1:{env['PORT']}"
        self.data_dir = Path(env["CHATBOT_DATA_DIR"])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("a") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "chatbot.launcher"],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """kill -9: no shutdown, no cleanup; its PostgreSQL server goes on running."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it; kill it and its cluster if it hangs."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(embedded_postgres.PostgresFailed):
            cluster(self.data_dir).stop()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def wait_ready(self, client: httpx.AsyncClient, *, seconds: float = 120) -> None:
        """``/healthz`` answers 200 and the job worker of this start says it runs."""
        assert self.process is not None
        starts = self.output().count("Job worker running")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the product exited while starting:\n{self.output()[-3000:]}")
            healthy = False
            with contextlib.suppress(httpx.HTTPError):
                healthy = (await client.get(f"{self.base}/healthz")).status_code == 200
            if healthy and self.output().count("Job worker running") > starts:
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(
            f"the product was not ready in {seconds:.0f} s:\n{self.output()[-3000:]}"
        )

    async def ask(self, client: httpx.AsyncClient, *, count: int, run: str) -> list[int]:
        """Post ``count`` signed mentions at once; returns the ack statuses."""

        async def post(number: int) -> int:
            body = mention_body(number=number, run=run)
            headers = signed_headers(body=body, secret=SIGNING_SECRET)
            headers["Content-Type"] = "application/json"
            response = await client.post(f"{self.base}/slack/events", content=body, headers=headers)
            return response.status_code

        return list(await asyncio.gather(*(post(number) for number in range(1, count + 1))))


async def wait_in_flight(fake_openai: FakeOpenAI, *, count: int, seconds: float = 60) -> None:
    """Until the model has ``count`` requests waiting on it: questions are mid-answer."""
    deadline = time.monotonic() + seconds
    while fake_openai.in_flight < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {fake_openai.in_flight} model calls in flight")
        await asyncio.sleep(0.05)


async def wait_answered(fake_slack: FakeSlack, threads: list[str], *, seconds: float) -> Tally:
    """Until every thread has its answer (or ``seconds`` pass); then a little longer, so that
    a second answer on its way would be seen."""
    deadline = time.monotonic() + seconds
    complete_at = None
    while time.monotonic() < deadline:
        if not tally(fake_slack, threads).lost:
            complete_at = time.monotonic()
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)
    return dataclasses.replace(tally(fake_slack, threads), complete_at=complete_at)


def question_statuses(*, data_dir: Path) -> dict[str, int]:
    import psycopg

    url = cluster(data_dir).url(dbname="chatbot")
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT status, count(*) FROM data_question GROUP BY status").fetchall()
    return {str(status): int(count) for status, count in rows}


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
