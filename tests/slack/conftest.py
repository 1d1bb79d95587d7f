"""Fixtures for the Slack flows: fake Slack and model servers, signed events, a worker run."""

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connection, transaction
from django.utils import timezone

from chatbot import asgi, slack_app, slack_client, slack_names
from domain.knowledge import chunking, documents
from tests.fakes import slack as fake_slack_module
from tests.fakes.slack import FakeSlack
from tests.workers import run_worker_until_idle as run_worker_until_idle

SIGNING_SECRET = "test-signing-secret"
CHANNEL = "C1"
ASKER = "U123"

KNOWLEDGE = {
    "howto/deploying.md": (
        "Deploying",
        [
            (
                ("Deploying", "Rollbacks"),
                "rollbacks",
                "To roll back a deploy, run make rollback from the release branch. "
                "Rollbacks take about five minutes.",
            ),
        ],
    ),
    "handbook/expenses.md": (
        "Expenses",
        [
            (
                ("Expenses", "Travel"),
                "travel",
                "Travel expenses are approved by your manager within a week.",
            ),
        ],
    ),
}


def store_knowledge() -> None:
    with transaction.atomic():
        source_id = documents.save_source(
            name="handbook", root="/docs", base_url="https://docs.example.com/"
        )
        for path, (title, sections) in KNOWLEDGE.items():
            parsed = chunking.ParsedDocument(
                title=title,
                sections=[
                    chunking.Section(headings=headings, anchor=anchor, text=text)
                    for headings, anchor, text in sections
                ],
            )
            documents.save_document(
                source_id=source_id,
                path=path,
                title=title,
                url=f"https://docs.example.com/{path}",
                content_hash=path,
                chunks=chunking.chunk(document=parsed),
                now=timezone.now(),
            )


def _truncate_jobs() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers"
        )


@pytest.fixture(autouse=True)
async def _no_jobs_left_behind() -> AsyncIterator[None]:
    """Procrastinate's tables are not flushed between tests; jobs retried later would leak."""
    yield
    await sync_to_async(_truncate_jobs, thread_sensitive=True)()
    # The jobs' Slack clients shared this test's event loop's HTTP session, as a server's do.
    await slack_client.close_shared_session()


@pytest.fixture
async def knowledge_base() -> None:
    """Two documented topics, stored and indexed the way ingestion stores them."""
    await sync_to_async(store_knowledge, thread_sensitive=True)()


@pytest.fixture
async def fake_slack(settings: Any, knowledge_base: None) -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    settings.SLACK_API_URL = server.url
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.SLACK_BOT_TOKEN = "xoxb-test-token"
    settings.CHATBOT_MODEL_RETRY_BACKOFF = 0.0
    slack_app._build.cache_clear()
    slack_names.forget_all()
    try:
        yield server
    finally:
        slack_app._build.cache_clear()
        slack_names.forget_all()
        await server.stop()


def event_callback(event: dict[str, Any], *, event_id: str = "Ev001") -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": fake_slack_module.TEAM_ID,
        "api_app_id": "A1",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "team_id": fake_slack_module.TEAM_ID,
                "user_id": fake_slack_module.BOT_USER_ID,
                "is_bot": True,
            }
        ],
    }


def mention(
    text: str, *, ts: str = "1700000000.000100", thread_ts: str | None = None, user: str = ASKER
) -> dict:
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{fake_slack_module.BOT_USER_ID}> {text}",
        "ts": ts,
        "channel": CHANNEL,
        "team": fake_slack_module.TEAM_ID,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


async def post_signed(
    body: dict[str, Any] | str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    signed = fake_slack_module.signed_headers(body=raw, secret=secret, timestamp=timestamp)
    return await post_events(
        raw, headers={**signed, "Content-Type": content_type, **(headers or {})}
    )


async def post_events(raw: str, *, headers: dict[str, str]) -> httpx.Response:
    """POST to /slack/events through the product's ASGI application, as uvicorn calls it."""
    transport = httpx.ASGITransport(app=asgi.application)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        return await client.post("/slack/events", content=raw, headers=headers)
