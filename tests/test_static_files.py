"""The admin's CSS and JavaScript are served with DEBUG off, without slowing other requests."""

import httpx
import pytest
from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIHandler
from django.core.management import call_command


@pytest.fixture
def collected_static(tmp_path, settings) -> None:
    """`collectstatic` into a STATIC_ROOT of the test's own, as `make run` does into .data."""
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", interactive=False, verbosity=0)


def _client() -> httpx.AsyncClient:
    # A new ASGI application, so ServeStatic reads the STATIC_ROOT of this test.
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=get_asgi_application()),  # type: ignore[arg-type]
        base_url="http://127.0.0.1",
    )


@pytest.mark.usefixtures("collected_static")
async def test_the_admin_stylesheet_is_served_with_debug_off(settings):
    assert settings.DEBUG is False

    async with _client() as client:
        response = await client.get("/static/admin/css/base.css")
        again = await client.get(
            "/static/admin/css/base.css", headers={"If-None-Match": response.headers["ETag"]}
        )
        missing = await client.get("/static/admin/css/no-such-file.css")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")
    assert int(response.headers["Content-Length"]) == len(response.content) > 1000
    assert b"--body-fg" in response.content
    assert again.status_code == 304
    assert again.content == b""
    assert missing.status_code == 404


def test_no_middleware_is_adapted_to_run_in_a_thread(settings, caplog):
    """Under ASGI each sync-only middleware hands every request to a thread and back."""
    settings.DEBUG = True  # Django logs each adaptation in DEBUG only
    caplog.set_level("DEBUG", logger="django.request")

    ASGIHandler()

    assert [r.getMessage() for r in caplog.records if "adapted" in r.getMessage()] == []
