"""``GET /metrics``: who may read it, and what a scrape shows. Across processes it is checked in
``tests/test_scale_out.py`` (two web processes and two workers, one ``/metrics``)."""

import ipaddress

import pytest
from django.test import Client

from application import metrics
from tests import factories

pytestmark = pytest.mark.django_db


def test_metrics_do_not_exist_until_a_token_or_an_allow_list_is_set(settings):
    settings.CHATBOT_METRICS_TOKEN = ""
    settings.CHATBOT_METRICS_ALLOW = []

    response = Client().get("/metrics")

    assert response.status_code == 404
    assert b"CHATBOT_METRICS_TOKEN" in response.content


def test_metrics_need_the_token(settings):
    settings.CHATBOT_METRICS_TOKEN = "secret-token"
    settings.CHATBOT_METRICS_ALLOW = []

    assert Client().get("/metrics").status_code == 403
    wrong = Client(headers={"Authorization": "Bearer nope"}).get("/metrics")
    assert wrong.status_code == 403
    right = Client(headers={"Authorization": "Bearer secret-token"}).get("/metrics")
    assert right.status_code == 200
    assert right["Content-Type"].startswith("text/plain; version=0.0.4")


def test_an_allowed_network_reads_metrics_without_a_token(settings):
    settings.CHATBOT_METRICS_TOKEN = "secret-token"
    settings.CHATBOT_METRICS_ALLOW = [ipaddress.ip_network("10.0.0.0/8")]

    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.168.1.1").get("/metrics").status_code == 403


def test_a_scrape_shows_questions_by_status_and_model_calls_by_model(settings):
    settings.CHATBOT_METRICS_TOKEN = "secret-token"
    factories.QuestionFactory(status="ANSWERED")
    metrics.record_model_run(model="m-1", outcome="ok", input_tokens=7, output_tokens=3)

    text = Client(headers={"Authorization": "Bearer secret-token"}).get("/metrics").content.decode()

    assert 'chatbot_questions{status="ANSWERED"} 1.0' in text
    assert 'chatbot_model_calls_total{model="m-1",outcome="ok"}' in text
    assert 'chatbot_model_tokens_total{kind="input",model="m-1"}' in text
    assert "chatbot_jobs" in text
    assert "chatbot_slack_ack_seconds_bucket" in text


def test_a_bad_allow_list_is_one_clear_error():
    import subprocess
    import sys

    from tests.test_startup import ROOT, _env

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_env(DJANGO_DEBUG="true", CHATBOT_METRICS_ALLOW="10.0.0.0/8,not-an-address"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("chatbot: CHATBOT_METRICS_ALLOW: 'not-an-address' does not appear")


def test_a_missing_multiprocess_directory_is_one_clear_error(tmp_path):
    import subprocess
    import sys

    from tests.test_startup import ROOT, _env

    missing = tmp_path / "metrics"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=_env(DJANGO_DEBUG="true", PROMETHEUS_MULTIPROC_DIR=str(missing)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line == (
        f"chatbot: PROMETHEUS_MULTIPROC_DIR: {missing} is not a directory; create it (empty, "
        "shared by this host's processes) before starting, or unset it"
    )


async def test_slack_api_errors_are_counted_by_kind_and_still_retried(settings):
    from prometheus_client import REGISTRY

    from chatbot import slack_client
    from tests.fakes.slack import FakeSlack

    def count(kind: str) -> float:
        return REGISTRY.get_sample_value("chatbot_slack_api_errors_total", {"kind": kind}) or 0.0

    slack = FakeSlack()
    await slack.start()
    try:
        settings.SLACK_API_URL = slack.url
        settings.SLACK_RETRY_LIMIT = 2
        slack.server_errors["chat.postMessage"] = 1
        slack.rate_limited["chat.postMessage"] = 1
        slack.retry_after = 0
        before = count("server_error"), count("rate_limited")

        response = await slack_client.web_client().chat_postMessage(channel="C1", text="hi")

        assert response["ok"]
        assert (count("server_error"), count("rate_limited")) == (before[0] + 1, before[1] + 1)
    finally:
        await slack.stop()
