"""A reviewer works through the admin's loop in a real headless Chromium: the dashboard, a 👎
answer, the coverage gaps, a request for a person, and a correction the next answer cites.

Uses Debian's ``chromium`` (``make test`` installs it as root when missing) through playwright,
never a browser that playwright downloads. Screenshots are kept in ``test-artifacts/``; the
ones docs/admin.md and docs/slack.md show are copies in ``docs/images/``.
"""

import contextlib
import datetime as dt
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from data import models
from tests import admin_support, factories
from tests.slack.conftest import store_knowledge

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # In CI the browser test must run: a missing browser fails it rather than skipping it.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed at /usr/bin/chromium "
        "(`make test` installs it when run as root: apt-get install chromium)",
    ),
]


@contextlib.contextmanager
def _signed_in(live_server: Any, username: str) -> Iterator[Any]:
    """A page of headless Chromium, signed in to the admin as ``username``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.goto(f"{live_server.url}/admin/")
            page.fill("#id_username", username)
            page.fill("#id_password", admin_support.PASSWORD)
            page.click("input[type=submit]")
            yield page
        finally:
            browser.close()


def _question_people_disliked() -> models.Question:
    asked = timezone.now() - dt.timedelta(hours=3)
    question = factories.QuestionFactory.create(
        text="How do I get a VPN certificate for my new laptop? The old one expired yesterday.",
        category="ACCESS",
        asker_name="Dana Whitfield",
        channel_id="CIT0HELP",
        asked_at=asked,
        latency_ms=4300,
    )
    factories.QuestionFactory.create(
        text="Is the VPN down for everyone?",
        channel_id="CIT0HELP",
        thread_ts=question.thread_ts,
        asked_at=asked - dt.timedelta(minutes=10),
    )
    answer = factories.AnswerFactory.create(
        question=question,
        text=(
            "Request a new certificate in the **IT portal**:\n\n"
            "1. Open *Devices* and pick your laptop.\n"
            "2. Choose `Renew VPN certificate`.\n"
            "3. Install the downloaded profile and reconnect.\n\n"
            "If the portal refuses, ask in <https://example.com/it-help|#it-help>."
        ),
        created_at=asked + dt.timedelta(seconds=4),
    )
    factories.CitationFactory.create(
        answer=answer,
        position=1,
        title="VPN access",
        heading="Certificates > Renewing",
        url="https://docs.example.com/it/vpn#renewing",
    )
    factories.CitationFactory.create(
        answer=answer,
        position=2,
        title="Laptop setup",
        heading="First day",
        url="https://docs.example.com/it/laptops",
    )
    factories.AgentRunFactory.create(
        question=question, agent="classifier", model="openai:gpt-5-mini", latency_ms=600
    )
    factories.AgentRunFactory.create(
        question=question, agent="answer", model="openai:gpt-5-mini", latency_ms=3500
    )
    factories.FeedbackFactory.create(answer=answer, vote="DOWN", slack_user_id="U0DANA")
    factories.FeedbackFactory.create(answer=answer, vote="UP", slack_user_id="U0SAM")
    return question


def test_reviewer_filters_down_votes_and_marks_a_question_reviewed(live_server):
    from playwright.sync_api import expect

    reviewer = admin_support.make_reviewer("rita")
    disliked = _question_people_disliked()
    liked = factories.QuestionFactory.create(text="Where is the holiday calendar?")
    factories.FeedbackFactory.create(
        answer=factories.AnswerFactory.create(question=liked), vote="UP"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "admin-question-page.png"

    with _signed_in(live_server, "rita") as page:
        expect(page.locator(".qa-overview").first).to_be_visible()
        expect(page.locator(".qa-dashboard svg.qa-chart")).to_have_count(4)
        page.screenshot(path=ARTIFACTS / "admin-index.png", full_page=True)

        page.get_by_role("link", name="Questions", exact=True).first.click()
        page.get_by_role("link", name="Any 👎").click()
        rows = page.locator("#result_list tbody tr")
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text("VPN certificate")
        page.screenshot(path=ARTIFACTS / "admin-question-list.png", full_page=True)

        rows.first.get_by_role("link", name="How do I get a VPN").click()
        expect(page.locator(".qa-answer")).to_contain_text("IT portal")
        expect(page.locator(".qa-sources")).to_contain_text("VPN access")
        page.check("#id_reviewed")
        page.fill("#id_review_note", "The portal moved; update the VPN page.")
        page.fill("#id_quality_rating", "2")
        page.screenshot(path=screenshot, full_page=True)
        page.click("input[name=_save]")
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    disliked.refresh_from_db()
    assert disliked.reviewed is True
    assert disliked.reviewer_id == reviewer.pk
    assert disliked.reviewed_at is not None
    assert disliked.review_note == "The portal moved; update the VPN page."
    assert disliked.quality_rating == 2
    assert screenshot.stat().st_size > 10_000


def _question_nobody_could_answer() -> models.Question:
    asked = timezone.now() - dt.timedelta(hours=1)
    question = factories.QuestionFactory.create(
        text="What is the wifi password in the Lisbon office?",
        category="ACCESS",
        status="NOT_COVERED",
        asker_id="U0DANA",
        asker_name="Dana Whitfield",
        channel_id="CIT0HELP",
        channel_name="#it-help",
        asked_at=asked,
        latency_ms=2100,
    )
    answer = factories.AnswerFactory.create(
        question=question,
        covered=False,
        text="I couldn't find this in the documentation, so I won't guess.",
        created_at=asked + dt.timedelta(seconds=2),
    )
    factories.FeedbackFactory.create(
        answer=answer,
        vote="DOWN",
        reason="NOT_FOUND",
        comment="The Lisbon office opened last month; nothing is written down yet.",
        slack_user_id="U0DANA",
    )
    models.Escalation.objects.create(
        question=question,
        answer=answer,
        requested_by="U0DANA",
        target_channel_id="CIT0DESK",
        requested_at=asked + dt.timedelta(minutes=1),
        notified_ts="1700000200.000100",
        notified_at=asked + dt.timedelta(minutes=1),
    )
    return question


def test_reviewer_follows_a_gap_from_the_list_to_the_request_for_a_person(live_server):
    from playwright.sync_api import expect

    admin_support.make_reviewer("rita")
    gap = _question_nobody_could_answer()
    factories.QuestionFactory.create(text="Where is the holiday calendar?", channel_id="C0HR")
    ARTIFACTS.mkdir(exist_ok=True)

    with _signed_in(live_server, "rita") as page:
        page.goto(f"{live_server.url}/admin/data/question/?escalation=open")
        rows = page.locator("#result_list tbody tr")
        expect(rows).to_have_count(1)
        # People and channels by name, and the outcome as its own status.
        expect(rows).to_contain_text("Dana Whitfield")
        expect(rows).to_contain_text("#it-help")
        expect(rows).to_contain_text("Not covered")
        page.screenshot(path=ARTIFACTS / "admin-escalated-questions.png", full_page=True)

        rows.first.get_by_role("link", name="What is the wifi").click()
        expect(page.locator(".qa-feedback")).to_contain_text("Not what I was looking for")
        expect(page.locator(".qa-feedback")).to_contain_text("nothing is written down yet")
        expect(page.get_by_text("requests for a person", exact=False).first).to_be_visible()
        page.screenshot(path=ARTIFACTS / "admin-question-with-reason.png", full_page=True)

        page.goto(f"{live_server.url}/admin/data/escalation/")
        page.locator("#result_list input.action-select").first.check()
        page.select_option("select[name=action]", "mark_answered")
        page.click("button[name=index]")
        expect(page.locator(".messagelist")).to_contain_text("marked answered")
        page.screenshot(path=ARTIFACTS / "admin-requests-for-a-person.png", full_page=True)

    escalation = models.Escalation.objects.get(question=gap)
    assert escalation.state == "ANSWERED"


def _a_fortnight_of_questions() -> None:
    """Two weeks of answered, failed and slower days, for a dashboard worth looking at."""
    now = timezone.now()
    for days_ago in range(14):
        for n in range(3 + days_ago % 4):
            asked = now - dt.timedelta(days=days_ago, hours=2 + n)
            latency_ms = 2400 + 700 * n + 150 * (days_ago % 6)
            failed = (days_ago + n) % 9 == 0
            question = factories.QuestionFactory.create(
                text=f"How do I request leave, case {days_ago}-{n}?",
                status="FAILED" if failed else "ANSWERED",
                channel_id=("C0HR", "C0IT", "C0ENG")[n % 3],
                channel_name=("#hr", "#it-help", "#engineering")[n % 3],
                asked_at=asked,
                first_status_ms=250 + 40 * n + 15 * (days_ago % 5),
                answered_at=None if failed else asked + dt.timedelta(milliseconds=latency_ms),
                latency_ms=None if failed else latency_ms,
            )
            factories.AgentRunFactory.create(
                question=question, input_tokens=1200 + 90 * n, output_tokens=300, started_at=asked
            )


def test_reviewer_opens_the_coverage_gaps_from_the_dashboard(live_server):
    from playwright.sync_api import expect

    admin_support.make_reviewer("rita")
    ARTIFACTS.mkdir(exist_ok=True)
    _a_fortnight_of_questions()
    for text in ("Who approves travel to the Berlin office?", "Is travel to Berlin refunded?"):
        factories.QuestionFactory.create(
            text=text, status="NOT_COVERED", asked_at=timezone.now() - dt.timedelta(hours=1)
        )

    with _signed_in(live_server, "rita") as page:
        first_status = page.locator(".qa-dashboard svg.qa-chart").nth(1)
        expect(first_status.locator("circle.qa-line--p50")).to_have_count(14)
        page.locator(".qa-dashboard").screenshot(path=ARTIFACTS / "admin-dashboard.png")
        page.locator(".qa-dashboard").get_by_role("link", name="Coverage gaps").click()
        berlin = page.locator("tr[data-topic=berlin]")
        expect(berlin).to_contain_text("2")
        expect(berlin).to_contain_text("Who approves travel")
        page.screenshot(path=ARTIFACTS / "admin-coverage-gaps.png", full_page=True)


def test_reviewer_corrects_an_answer_and_the_next_answer_cites_it(live_server):
    from playwright.sync_api import expect

    admin_support.make_reviewer("rita")
    store_knowledge()
    call_command("ask", "how do I roll back a deploy?", stdout=io.StringIO(), stderr=io.StringIO())
    first = models.Question.objects.get()
    correction = (
        "Since May, roll back with `make rollback ENV=production` from any branch; "
        "the release branch is no longer needed."
    )
    ARTIFACTS.mkdir(exist_ok=True)

    with _signed_in(live_server, "rita") as page:
        page.goto(f"{live_server.url}/admin/data/question/{first.pk}/change/")
        page.fill("#id_correct_answer", correction)
        page.screenshot(path=ARTIFACTS / "admin-correct-answer.png", full_page=True)
        page.click("input[name=_save]")
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    # Playwright's sync API runs an event loop in this thread: the bot answers between pages.
    answer = io.StringIO()
    call_command("ask", "how do I roll back a deploy now?", stdout=answer, stderr=io.StringIO())
    later = models.Question.objects.exclude(pk=first.pk).get()

    with _signed_in(live_server, "rita") as page:
        page.goto(f"{live_server.url}/admin/data/question/{later.pk}/change/")
        sources = page.locator(".qa-sources")
        expect(sources.locator("li").first).to_contain_text("Reviewed by rita on")
        expect(page.locator(".qa-answer")).to_contain_text("make rollback ENV=production")
        page.screenshot(path=ARTIFACTS / "admin-reviewed-answer-cited.png", full_page=True)

    assert "Reviewed by rita on" in answer.getvalue()  # the asker sees the same source
