import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import AsyncClient

from domain import database

pytestmark = pytest.mark.django_db(transaction=True)


async def test_healthz_reports_the_database_ok():
    response = await AsyncClient().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_echoes_a_request_id_and_logs_one_line_with_it(caplog):
    caplog.set_level("INFO", logger="chatbot.access")

    response = await AsyncClient().get("/healthz", headers={"X-Request-ID": "req-42"})

    assert response["X-Request-ID"] == "req-42"
    lines = [r for r in caplog.records if r.name == "chatbot.access"]
    assert len(lines) == 1
    assert lines[0].log_id == "req-42"
    assert "GET /healthz 200" in lines[0].getMessage()


async def test_a_new_request_id_is_made_when_the_caller_sends_none_or_junk():
    first = await AsyncClient().get("/healthz")
    second = await AsyncClient().get("/healthz", headers={"X-Request-ID": "bad id\n"})

    assert len(first["X-Request-ID"]) == 12
    assert second["X-Request-ID"] not in ("bad id\n", first["X-Request-ID"])


async def test_admin_requires_login():
    response = await AsyncClient().get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def _worker_beat(seconds_ago: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat)"
            " VALUES (now() - make_interval(secs => %s))",
            [seconds_ago],
        )


async def test_readyz_needs_a_worker_that_beat_recently():
    beat = sync_to_async(_worker_beat, thread_sensitive=True)

    none = await AsyncClient().get("/readyz")
    await beat(600)
    silent = await AsyncClient().get("/readyz")
    await beat(1)
    ready = await AsyncClient().get("/readyz")

    assert (none.status_code, none.json()["worker"]) == (503, "none seen")
    assert (silent.status_code, silent.json()["worker"]) == (503, "silent for 600s")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "migrations": "ok", "worker": "ok"}


def _forget_last_migration() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations)"
            " RETURNING app, name"
        )
        return cursor.fetchone()


def _record_migration(app: str, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, now())",
            [app, name],
        )


async def test_readyz_reports_pending_migrations(monkeypatch):
    monkeypatch.setattr(database, "_migrations_seen_applied", False)
    await sync_to_async(_worker_beat, thread_sensitive=True)(0)
    app, name = await sync_to_async(_forget_last_migration, thread_sensitive=True)()
    try:
        response = await AsyncClient().get("/readyz")
    finally:
        await sync_to_async(_record_migration, thread_sensitive=True)(app, name)

    assert response.status_code == 503
    assert response.json()["migrations"] == "1 pending"
