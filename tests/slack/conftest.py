"""Fixtures for the Slack flows: fake Slack and model servers, signed events, a worker run."""

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import AsyncClient
from procrastinate.contrib.django import app as job_app

from application import knowledge
from application.agents import answer as answer_agent
from chatbot import slack_app
from tests import factories
from tests.fakes import slack as fake_slack_module
from tests.fakes.openai import FakeOpenAI
from tests.fakes.slack import FakeSlack

SIGNING_SECRET = "test-signing-secret"
CHANNEL = "C1"
ASKER = "U123"

KNOWLEDGE = [
    {
        "title": "Deploying",
        "path": "deploying.md",
        "heading_path": "Deploying > Rollbacks",
        "anchor": "rollbacks",
        "text": "To roll back a deploy, run make rollback from the release branch. "
        "Rollbacks take about five minutes.",
    },
    {
        "title": "Expenses",
        "path": "expenses.md",
        "heading_path": "Expenses > Travel",
        "anchor": "travel",
        "text": "Travel expenses are approved by your manager within a week.",
    },
]


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


@pytest.fixture
async def knowledge_base(monkeypatch: pytest.MonkeyPatch) -> list[answer_agent.Passage]:
    """Two documented topics as real chunk rows, and a search over them.

    The search stands in for domain.search (built in parallel) with the same shape of result.
    """
    passages: list[answer_agent.Passage] = []
    for item in KNOWLEDGE:
        document = await factories.DocumentFactory.acreate(
            title=item["title"],
            path=item["path"],
            url=f"https://docs.example.com/{item['path'].removesuffix('.md')}",
        )
        chunk = await factories.ChunkFactory.acreate(
            document=document,
            heading_path=item["heading_path"],
            anchor=item["anchor"],
            text=item["text"],
        )
        passages.append(
            answer_agent.Passage(
                chunk_id=chunk.pk,
                title=item["title"],
                heading_path=item["heading_path"],
                url=f"{document.url}#{item['anchor']}",
                text=item["text"],
                score=1.0,
            )
        )

    async def search(*, query: str, limit: int) -> list[answer_agent.Passage]:
        return passages[:limit]

    monkeypatch.setattr(knowledge, "search", search)
    return passages


@pytest.fixture
async def fake_slack(
    settings: Any, knowledge_base: list[answer_agent.Passage]
) -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    settings.SLACK_API_URL = server.url
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.SLACK_BOT_TOKEN = "xoxb-test-token"
    settings.CHATBOT_MODEL_RETRY_BACKOFF = 0.0
    slack_app._build.cache_clear()
    try:
        yield server
    finally:
        slack_app._build.cache_clear()
        await server.stop()


@pytest.fixture
async def fake_openai(
    settings: Any, monkeypatch: pytest.MonkeyPatch, model_requests_allowed: None
) -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI()
    await server.start()
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    settings.CHATBOT_MODEL = "openai-chat:fake-model"
    settings.CHATBOT_CLASSIFIER_MODEL = "openai-chat:fake-model"
    settings.CHATBOT_MODEL_RETRY_BACKOFF = 0.0
    try:
        yield server
    finally:
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


def mention(text: str, *, ts: str = "1700000000.000100", thread_ts: str | None = None) -> dict:
    event = {
        "type": "app_mention",
        "user": ASKER,
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
    return await AsyncClient().post(
        "/slack/events", data=raw, content_type=content_type, headers={**signed, **(headers or {})}
    )


async def run_worker_until_idle(*, concurrency: int = 4) -> None:
    with job_app.replace_connector(job_app.connector.get_worker_connector()):  # type: ignore[attr-defined]
        async with job_app.open_async():
            await job_app.run_worker_async(
                wait=False, concurrency=concurrency, listen_notify=False, queues=["default"]
            )
