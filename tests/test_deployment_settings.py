"""HTTPS settings: the proxy's word is taken only when configured, and browsers keep to HTTPS."""

import json
import secrets
import subprocess
import sys

import pytest

from chatbot import secure_cookies
from tests.test_startup import ROOT, _env, _url_of_the_test_database

PRODUCTION = {  # as README's "Connect a workspace" and docs/configuration.md describe them
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "bot.example.com,testserver",
    "HOST": "0.0.0.0",
    "DJANGO_BEHIND_PROXY": "true",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://bot.example.com",
    "DATABASE_URL": "postgres://chatbot:pw@db.internal:5432/chatbot",
}

# What a browser gets for a page, in a process configured by the environment (settings are
# read once, at import); a 404 needs no database.
RESPONSE = """
import json, sys, django
django.setup()
from django.test import Client, RequestFactory
headers = json.loads(sys.argv[1])
response = Client().get("/nope", **headers)
print(json.dumps({
    "taken_for_https": RequestFactory().get("/nope", **headers).is_secure(),
    "status": response.status_code,
    "location": response.headers.get("Location"),
    "hsts": response.headers.get("Strict-Transport-Security"),
}))
"""


def _response(*, headers: dict[str, str], **env: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", RESPONSE, json.dumps(headers)],
        cwd=ROOT,
        env=_env(DJANGO_SETTINGS_MODULE="chatbot.settings", **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.django_db
def test_check_deploy_is_clean_with_the_documented_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_env(**{**PRODUCTION, "DATABASE_URL": _url_of_the_test_database()}),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_behind_the_proxy_https_gets_hsts_and_plain_http_is_redirected():
    production = {**PRODUCTION, "DJANGO_DEBUG": "false"}

    over_https = _response(headers={"HTTP_X_FORWARDED_PROTO": "https"}, **production)
    over_http = _response(headers={}, **production)

    assert over_https["taken_for_https"] is True
    assert over_https["status"] == 404
    assert over_https["hsts"] == "max-age=31536000; includeSubDomains"
    assert over_http["status"] == 301
    assert over_http["location"] == "https://testserver/nope"


def test_without_the_proxy_setting_a_client_cannot_claim_https():
    direct = {**PRODUCTION, "DJANGO_DEBUG": "false", "DJANGO_BEHIND_PROXY": "false"}

    forged = _response(headers={"HTTP_X_FORWARDED_PROTO": "https"}, **direct)

    assert forged["taken_for_https"] is False
    assert forged["status"] == 404  # not redirected in a loop either
    assert forged["hsts"] is None


def test_the_local_install_sends_no_hsts():
    local = _response(headers={}, DJANGO_DEBUG="true", DJANGO_ALLOWED_HOSTS="testserver")

    assert local["hsts"] is None
    assert local["status"] == 404


# Secure cookies over plain HTTP: the login cannot stick, and the product says why.


@pytest.mark.django_db
def test_the_login_page_says_why_signing_in_fails_over_plain_http(client, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.ALLOWED_HOSTS = ["bot.example.com", "127.0.0.1"]

    plain = client.get("/admin/login/", HTTP_HOST="bot.example.com").content.decode()
    https = client.get("/admin/login/", HTTP_HOST="bot.example.com", secure=True).content.decode()
    local = client.get("/admin/login/", HTTP_HOST="127.0.0.1:8000").content.decode()

    assert 'id="secure-cookie-problem"' in plain
    assert "DJANGO_SECURE_COOKIES" in plain
    assert 'id="secure-cookie-problem"' not in https
    assert 'id="secure-cookie-problem"' not in local


def test_a_server_on_a_network_address_with_secure_cookies_and_no_proxy_is_warned(settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.DJANGO_BEHIND_PROXY = False

    assert "DJANGO_BEHIND_PROXY" in secure_cookies.server_problem(host="0.0.0.0")
    assert secure_cookies.server_problem(host="127.0.0.1") == ""
    settings.DJANGO_BEHIND_PROXY = True
    assert secure_cookies.server_problem(host="0.0.0.0") == ""
