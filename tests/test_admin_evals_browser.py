"""A reviewer turns a 👎 question into an eval case, and reads two runs' comparison, in a real
headless Chromium (Debian's, as in ``tests/test_admin_browser.py``; screenshots go to
``test-artifacts/``)."""

import io
from typing import Any

import pytest
from django.core.management import call_command

from data import models
from tests import admin_support, factories
from tests.test_admin_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium "
        "(`make test` installs it when run as root: apt-get install chromium)",
    ),
]

ROLLBACK = "How do I roll back a deploy?"


def _handbook(tmp_path, rollback: str) -> None:
    docs = tmp_path / "handbook"
    docs.mkdir(exist_ok=True)
    (docs / "deploy.md").write_text(f"# Deploying\n\n## Rolling back\n\n{rollback}\n")
    (docs / "expenses.md").write_text(
        "# Expenses\n\n## Hotels on business travel\n\nA hotel night on business travel is "
        "refunded up to 150 euros. Send the receipts through the expenses portal.\n"
    )
    call_command("ingest_docs", str(docs), "--source", "handbook", stdout=io.StringIO())


def _eval_from_admin() -> None:
    call_command("eval", "--from-admin", stdout=io.StringIO(), stderr=io.StringIO())


def _logged_in(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    page.goto(f"{url}/admin/")
    page.fill("#id_username", "rita")
    page.fill("#id_password", admin_support.PASSWORD)
    page.click("input[type=submit]")
    return page


def test_reviewer_makes_an_eval_case_and_reads_the_regression_after_a_doc_change(
    live_server, tmp_path
):
    from playwright.sync_api import expect, sync_playwright

    admin_support.make_reviewer("rita")
    _handbook(
        tmp_path,
        "To roll back a deploy, run `deploy rollback` with the release number. "
        "A rollback takes about two minutes.",
    )
    disliked = factories.QuestionFactory.create(text=ROLLBACK)
    factories.FeedbackFactory.create(
        answer=factories.AnswerFactory.create(question=disliked), vote="DOWN"
    )
    factories.EvalCaseFactory.create(
        text="How much of a hotel night is refunded on business travel?",
        gold_sources=["expenses.md"],
        required_facts=["150 euros"],
    )
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = _logged_in(browser, live_server.url)
            # The eval cases propose the 👎 question; it becomes a case in one action.
            page.goto(f"{live_server.url}/admin/data/evalcase/")
            page.get_by_role("link", name="1 question with 👎 proposed").click()
            rows = page.locator("#result_list tbody tr")
            expect(rows).to_have_count(1)
            rows.first.locator("input.action-select").check()
            page.select_option("select[name=action]", "make_eval_case")
            page.click("button[name=index]")
            expect(page.locator(".messagelist")).to_contain_text("Made 1 eval case(s)")

            page.locator(".messagelist").get_by_role("link", name="Eval cases").click()
            page.get_by_role("link", name=ROLLBACK).click()
            page.fill("#id_gold_sources", "deploy.md")
            page.fill("#id_required_facts", "deploy rollback")
            page.click("input[name=_save]")
            expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
        finally:
            browser.close()

    # Outside the browser session: playwright's sync API keeps an event loop running, and the
    # command runs one of its own.
    _eval_from_admin()
    _handbook(tmp_path, "Ask the platform team to roll back a deploy.")
    _eval_from_admin()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = _logged_in(browser, live_server.url)
            page.goto(f"{live_server.url}/admin/data/evalrun/")
            runs = page.locator("#result_list tbody tr")
            expect(runs).to_have_count(2)
            expect(runs.first).to_contain_text("1/2")
            expect(runs.nth(1)).to_contain_text("2/2")
            runs.first.locator("th a").click()

            rollback = page.locator("#eval-results tr", has_text=ROLLBACK)
            expect(rollback).to_contain_text("FAIL")
            expect(rollback).to_contain_text("REGRESSED")
            expect(page.locator(".qa-eval-comparison")).to_contain_text("1 regression(s)")
            expect(page.locator(".qa-eval-comparison")).to_contain_text("passed 2 -> 1")
            page.screenshot(path=ARTIFACTS / "admin-eval-run.png", full_page=True)

            page.select_option("#qa-compare", "none")
            page.get_by_role("button", name="Compare").click()
            expect(page.locator(".qa-eval-comparison")).to_have_count(0)
            expect(page.locator("#eval-results tr", has_text=ROLLBACK)).to_contain_text("FAIL")
        finally:
            browser.close()

    case = models.EvalCase.objects.get(question=disliked)
    assert case.gold_sources == ["deploy.md"]
    assert case.required_facts == ["deploy rollback"]
