"""``GET /``: the setup page says what is configured and what to do next, never a secret, and
once everything is configured only "ok" to anyone who is not staff."""

import pytest
from django.db import connection
from django.test import Client

from data import models
from tests import admin_support, factories

pytestmark = pytest.mark.django_db

SECRETS = ("xoxb-very-secret-token", "signing-secret-value")


def _configure(settings, *, signing_secret: str, model: str) -> None:
    settings.SLACK_BOT_TOKEN = SECRETS[0]
    settings.SLACK_SIGNING_SECRET = signing_secret
    settings.SLACK_APP_TOKEN = ""
    settings.CHATBOT_MODEL = model


def _worker_beats() -> None:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now())")


def test_a_new_install_shows_what_is_missing_and_the_next_steps(settings):
    _configure(settings, signing_secret="", model="offline")

    response = Client().get("/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Some parts are not configured yet" in page
    assert "Set SLACK_SIGNING_SECRET" in page
    assert "Set CHATBOT_MODEL" in page
    assert "manage.py ingest_docs" in page
    assert "manage.py procrastinate worker" in page  # no worker has beaten
    assert 'href="/admin/"' in page
    assert not any(secret in page for secret in SECRETS)


def test_once_configured_anyone_but_staff_sees_only_ok(settings):
    _configure(settings, signing_secret=SECRETS[1], model="openai-chat:gpt-4o-mini")
    models.DocumentationSource.objects.create(name="handbook", root="/srv/handbook")
    _worker_beats()

    anonymous = Client().get("/")
    assert anonymous.status_code == 200
    assert anonymous.content == b"ok\n"

    staff = admin_support.logged_in_client(factories.UserFactory(is_staff=True))
    page = staff.get("/").content.decode()
    assert "Everything is configured." in page
    assert "handbook" in page
    assert not any(secret in page for secret in SECRETS)


def test_socket_mode_needs_no_signing_secret(settings):
    _configure(settings, signing_secret="", model="openai-chat:gpt-4o-mini")
    settings.SLACK_APP_TOKEN = "xapp-socket-token"
    models.DocumentationSource.objects.create(name="handbook", root="/srv/handbook")
    _worker_beats()

    assert Client().get("/").content == b"ok\n"
