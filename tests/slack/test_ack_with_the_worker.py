"""Acks while the in-process worker runs: every 200 has its job, a rolled-back insert has none.

``make run`` serves HTTP and runs the job worker in one process. The worker swaps the job
app's connector for its own (``chatbot.jobs.WorkerConnector``: psycopg's async pool for the
worker), and the HTTP side defers jobs through that same app inside its inbox transaction. The
sync defer must still go through Django's connection, or a job would be committed on another
connection, outside the transaction that records its event.
"""

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from procrastinate.contrib.django import app as job_app
from procrastinate.contrib.django.models import ProcrastinateJob

from application.inbox import accepting
from chatbot import jobs, slack_inbox
from data import models
from tests.fakes import slack as fake_slack_module
from tests.slack.conftest import SIGNING_SECRET, event_callback, mention
from tests.test_startup import ROOT, _env, _free_port, _url_of_the_test_database

pytestmark = pytest.mark.django_db(transaction=True)

QUESTIONS = 4


async def _job_for(event_id: str) -> bool:
    event = await models.SlackEvent.objects.aget(event_id=event_id)
    return await ProcrastinateJob.objects.filter(
        task_name="answer_slack_event", args__slack_event_id=event.pk
    ).aexists()


async def _read(log: Path) -> str:
    return await asyncio.to_thread(log.read_text)


async def _wait_for_log(log: Path, text: str, server: asyncio.subprocess.Process) -> None:
    for _ in range(300):
        if text in await _read(log):
            return
        if server.returncode is not None:
            break
        await asyncio.sleep(0.1)
    raise AssertionError(f"{text!r} not logged:\n{await _read(log)}")


async def test_the_real_server_with_its_worker_stores_a_job_for_every_ack_and_answers(
    fake_slack, tmp_path
):
    port = _free_port()
    log = tmp_path / "server.log"
    env = _env(
        DATABASE_URL=_url_of_the_test_database(),
        DJANGO_DEBUG="true",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_API_URL=fake_slack.url,
        CHATBOT_MODEL_RETRY_BACKOFF="0",
        # One asker sends them all: the fairness limits are not what this test is about.
        CHATBOT_QUESTIONS_PER_MINUTE="0",
        CHATBOT_QUESTIONS_IN_FLIGHT="0",
    )
    with log.open("w") as out:
        server = await asyncio.create_subprocess_exec(
            sys.executable, "manage.py", "serve", "--port", str(port),
            cwd=ROOT, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
    try:
        await _wait_for_log(log, "Job worker running", server)
        threads = [f"1700000000.{n:06d}" for n in range(1, QUESTIONS + 1)]
        bodies = [
            json.dumps(event_callback(mention("how do I roll back a deploy?", ts=ts), event_id=ts))
            for ts in threads
        ]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:

            async def post(body: str) -> int:
                headers = fake_slack_module.signed_headers(body=body, secret=SIGNING_SECRET)
                headers["Content-Type"] = "application/json"
                return (
                    await client.post("/slack/events", content=body, headers=headers)
                ).status_code

            statuses = await asyncio.gather(*(post(body) for body in bodies))
        # Each 200 has its event and its job, whatever the worker has done with it since.
        assert statuses == [200] * QUESTIONS
        assert all([await _job_for(ts) for ts in threads])

        for _ in range(600):
            if all(fake_slack.replies(thread_ts=ts) for ts in threads):
                break
            await asyncio.sleep(0.1)
        answered = [ts for ts in threads if fake_slack.replies(thread_ts=ts)]
        assert answered == threads, await _read(log)
        assert "make rollback" in fake_slack.replies(thread_ts=threads[0])[0].text
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.wait(), timeout=60)

    assert server.returncode == 0, await _read(log)


async def test_a_rolled_back_insert_leaves_no_job_while_the_worker_connector_is_installed(
    fake_slack,
):
    def defer_then_fail(stored_ids: list[int]) -> None:
        slack_inbox._enqueue(stored_ids)
        raise RuntimeError("a step after the defer failed")

    def accept(
        event_id: str, enqueue: Callable[[list[int]], None]
    ) -> Awaitable[list[accepting.Outcome]]:
        body = event_callback(mention("how do I roll back a deploy?"), event_id=event_id)
        event = accepting.Event(
            event_id=event_id, team_id="T1", event_type="app_mention", payload=body
        )
        return accepting.accept_all(events=[event], enqueue=enqueue)

    connector = jobs.WorkerConnector()
    with job_app.replace_connector(connector):
        await connector.open_async()
        try:
            assert job_app.connector is connector
            with pytest.raises(RuntimeError, match="after the defer"):
                await accept("EvRolledBack", defer_then_fail)
            stored = await accept("EvKept", slack_inbox._enqueue)
        finally:
            await connector.close_async()

    assert stored == [accepting.Outcome.STORED]
    assert not await models.SlackEvent.objects.filter(event_id="EvRolledBack").aexists()
    assert await _job_for("EvKept")
    assert await ProcrastinateJob.objects.acount() == 1
