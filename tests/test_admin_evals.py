"""Evals in the admin: 👎 questions proposed and made eval cases, cases edited, runs compared."""

import datetime as dt
import os
import subprocess
import sys

import pytest
from bs4 import BeautifulSoup
from django.db import transaction
from django.utils import timezone

from data import models
from domain.evals import cases, records, scoring
from tests import admin_support, factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reviewer_client():
    return admin_support.logged_in_client(admin_support.make_reviewer())


def _disliked(text: str) -> models.Question:
    question = factories.QuestionFactory.create(text=text)
    factories.FeedbackFactory.create(
        answer=factories.AnswerFactory.create(question=question), vote="DOWN"
    )
    return question


def test_disliked_questions_are_proposed_and_become_eval_cases(reviewer_client):
    disliked = _disliked("How do I renew the VPN certificate?")
    liked = factories.QuestionFactory.create(text="Where is the holiday calendar?")
    factories.FeedbackFactory.create(
        answer=factories.AnswerFactory.create(question=liked), vote="UP"
    )

    cases_page = reviewer_client.get("/admin/data/evalcase/")
    assert "1 question with 👎 proposed" in cases_page.content.decode()
    proposed = reviewer_client.get("/admin/data/question/?eval=proposed")
    rows = BeautifulSoup(proposed.content, "html.parser").select("#result_list tbody tr")
    assert [row.get_text(" ", strip=True).count("VPN certificate") for row in rows] == [1]

    response = reviewer_client.post(
        "/admin/data/question/",
        {"action": "make_eval_case", "_selected_action": [disliked.pk, liked.pk]},
        follow=True,
    )

    assert "Made 2 eval case(s)" in response.content.decode()
    case = models.EvalCase.objects.get(question=disliked)
    assert case.text == disliked.text
    assert case.active is True
    assert case.gold_sources == []
    # Made again: no duplicate, and nothing left to propose.
    reviewer_client.post(
        "/admin/data/question/",
        {"action": "make_eval_case", "_selected_action": [disliked.pk]},
    )
    assert models.EvalCase.objects.count() == 2
    again = reviewer_client.get("/admin/data/question/?eval=proposed")
    assert not BeautifulSoup(again.content, "html.parser").select("#result_list tbody tr")


def test_an_eval_case_is_edited_as_lines_and_a_bad_pattern_is_refused(reviewer_client):
    case = factories.EvalCaseFactory.create(text="How do I roll back a deploy?")
    url = f"/admin/data/evalcase/{case.pk}/change/"
    data = admin_support.form_data(reviewer_client.get(url).content, "evalcase_form")

    refused = reviewer_client.post(
        url, {**data, "gold_sources": "deploy.md", "required_facts": "re:(unclosed"}
    )

    assert refused.status_code == 200
    assert "is not a regular expression" in refused.content.decode()
    case.refresh_from_db()
    assert case.required_facts == []

    reviewer_client.post(
        url,
        {
            **data,
            "gold_sources": "deploy.md\n\nDeploying\n",
            "required_facts": "deploy rollback\nre:two minutes?",
        },
    )
    case.refresh_from_db()
    assert case.gold_sources == ["deploy.md", "Deploying"]
    assert case.required_facts == ["deploy rollback", "re:two minutes?"]


def _stored_run(*, passed_rollback: bool, started_at: dt.datetime) -> int:
    rollback = cases.Case(
        key="rollback", question="How do I roll back a deploy?", gold_sources=("deploy.md",)
    )
    found = [scoring.Retrieved(source="handbook", path="deploy.md", title="Deploying")]
    results = [
        scoring.score(
            case=rollback,
            k=5,
            retrieved=found if passed_rollback else [],
            answer="Run deploy rollback.",
            covered=True,
            grade=None,
            error="",
            latency_ms=40,
            input_tokens=300,
            output_tokens=50,
        )
    ]
    with transaction.atomic():
        return records.save_run(
            started_at=started_at,
            finished_at=started_at + dt.timedelta(seconds=1),
            set_name="evals/handbook.jsonl",
            git_commit="abc123",
            model="offline",
            grader_model="",
            k=5,
            settings={"model": "offline"},
            baseline_id=None,
            results=results,
        )


def test_a_run_page_shows_its_table_and_the_regressions_since_the_run_before(reviewer_client):
    now = timezone.now()
    before = _stored_run(passed_rollback=True, started_at=now - dt.timedelta(hours=1))
    after = _stored_run(passed_rollback=False, started_at=now)

    listing = reviewer_client.get("/admin/data/evalrun/")
    assert listing.status_code == 200
    assert "evals/handbook.jsonl" in listing.content.decode()

    page = reviewer_client.get(f"/admin/data/evalrun/{after}/change/")

    soup = BeautifulSoup(page.content, "html.parser")
    row = soup.select_one("#eval-results tr[data-case=rollback]")
    assert row is not None
    text = row.get_text(" ", strip=True)
    assert "miss" in text
    assert "FAIL" in text
    assert "REGRESSED" in text
    box = soup.select_one(".qa-eval-comparison")
    assert box is not None
    comparison = box.get_text(" ", strip=True)
    assert f"Against run {before}" in comparison
    assert "1 regression(s)" in comparison

    alone = reviewer_client.get(f"/admin/data/evalrun/{after}/change/?compare=none")
    assert not BeautifulSoup(alone.content, "html.parser").select(".qa-eval-comparison")
    unknown = reviewer_client.get(f"/admin/data/evalrun/{after}/change/?compare=999")
    assert unknown.status_code == 200
    assert "There is no eval run 999" in unknown.content.decode()


def test_every_command_starts_without_loading_the_model_library():
    """The admin, evals included, is imported at every start: it must not pull in pydantic-ai
    (docs/architecture.md, "Python and Django style")."""
    code = (
        "import sys, django; django.setup(); "
        "print(sorted(m for m in ('pydantic_ai', 'application.evals.running') if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatbot.settings", "DJANGO_DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "[]"
