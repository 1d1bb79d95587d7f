import pytest
from django.test import AsyncClient

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
