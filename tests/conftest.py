"""Test setup: a throwaway PostgreSQL cluster for the run, unless DATABASE_URL names a server."""

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import connections
from pydantic_ai import models as pydantic_ai_models

from chatbot import embedded_postgres
from tests.fakes.openai import FakeOpenAI
from tests.fakes.slack import FakeSlack


@pytest.fixture(scope="session")
def django_db_modify_db_settings() -> Iterator[None]:
    """Start a cluster in a temporary directory and point the test database at it."""
    if os.environ.get("DATABASE_URL"):
        yield
        return
    root = Path(tempfile.mkdtemp(prefix="chatbot-pg-"))
    try:
        with embedded_postgres.running(
            data_dir=root / "data", socket_dir=root / "run", durable=False
        ) as cluster:
            settings.DATABASES["default"]["HOST"] = str(cluster.socket_dir)
            settings.DATABASES["default"]["OPTIONS"]["passfile"] = str(cluster.passfile)
            yield
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def django_db_setup(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[None]:
    """Close the connection pools before the test database is dropped."""
    yield
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        _close_pools()


def _close_pools() -> None:
    for connection in connections.all():
        connection.close()
        if connection.vendor == "postgresql" and connection.pool is not None:  # type: ignore[attr-defined]
            connection.close_pool()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _release_executor_connections() -> Iterator[None]:
    """Return connections that async test code opened on asgiref's shared executor thread.

    Production code runs each unit of work in its own ThreadSensitiveContext and closes its
    connections; a test body calling the async ORM directly uses the process-wide thread.
    """
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


# No test may reach a real model provider; tests that talk to the fake OpenAI-compatible server
# on 127.0.0.1 opt in with the `model_requests_allowed` fixture.
pydantic_ai_models.ALLOW_MODEL_REQUESTS = False


@pytest.fixture
def model_requests_allowed() -> Iterator[None]:
    pydantic_ai_models.ALLOW_MODEL_REQUESTS = True
    try:
        yield
    finally:
        pydantic_ai_models.ALLOW_MODEL_REQUESTS = False


@pytest.fixture
async def fake_openai(
    settings: Any, monkeypatch: pytest.MonkeyPatch, model_requests_allowed: None
) -> AsyncIterator[FakeOpenAI]:
    """An OpenAI-compatible model on 127.0.0.1, configured as the bot's model."""
    from application import model_runs

    server = FakeOpenAI()
    await server.start()
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    settings.CHATBOT_MODEL = "openai-chat:fake-model"
    settings.CHATBOT_MODEL_RETRY_BACKOFF = 0.0
    model_runs.model_named.cache_clear()  # the model objects hold a client for the old base URL
    try:
        yield server
    finally:
        model_runs.model_named.cache_clear()
        await server.stop()


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeSlack, FakeOpenAI]]:
    """A fake Slack and a fake model, for tests that start the product as processes."""
    slack, model = FakeSlack(), FakeOpenAI()
    await slack.start()
    await model.start()
    try:
        yield slack, model
    finally:
        await model.stop()
        await slack.stop()


@pytest.fixture(scope="module")
def data_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`make run`'s data directory, migrated once per test module, for its tests to copy."""
    from tests import process_faults

    template = process_faults.prepare_data_dir(tmp_path_factory.mktemp("product"))
    try:
        yield template
    finally:
        process_faults.cluster(template).stop()
