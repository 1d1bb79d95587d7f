"""The admin index overview, the knowledge base and release notes pages, and the job queue."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from data import models
from domain.questions import review
from domain.text import safe_markdown
from tests import admin_support, factories

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 10, 15, 0, tzinfo=dt.UTC)  # a Wednesday afternoon


@pytest.fixture
def reviewer_client():
    return admin_support.logged_in_client(admin_support.make_reviewer())


def _question(*, asked_at, status="ANSWERED", category="HOW_TO", latency_ms=1000, votes=()):
    question = factories.QuestionFactory.create(
        asked_at=asked_at, status=status, category=category, latency_ms=latency_ms
    )
    if status == "ANSWERED":
        answer = factories.AnswerFactory.create(question=question)
        for vote in votes:
            factories.FeedbackFactory.create(answer=answer, vote=vote)
    return question


# The overview.


def test_overview_counts_today_and_the_last_seven_days():
    _question(asked_at=NOW - dt.timedelta(hours=1), latency_ms=1000, votes=("DOWN", "DOWN"))
    _question(asked_at=NOW - dt.timedelta(hours=2), latency_ms=3000, votes=("UP",))
    _question(asked_at=NOW - dt.timedelta(days=2), category="POLICY", latency_ms=2000)
    _question(
        asked_at=NOW - dt.timedelta(days=3), status="FAILED", category="POLICY", latency_ms=None
    )
    _question(asked_at=NOW - dt.timedelta(days=3), category="")
    _question(asked_at=NOW - dt.timedelta(days=4), status="NOT_COVERED")
    _question(asked_at=NOW - dt.timedelta(days=8), votes=("DOWN",))  # outside the window
    _question(asked_at=NOW + dt.timedelta(minutes=1))  # after "now"

    overview = review.overview(now=NOW)

    assert overview.today == 2
    assert overview.last_7_days == 6
    assert overview.answered == 4
    assert overview.not_covered == 1
    assert overview.answered_share == pytest.approx(4 / 6)
    assert overview.with_down_vote == 1
    assert overview.down_vote_share == pytest.approx(0.25)
    assert overview.p50_latency_ms == pytest.approx(1000)  # 1000, 1000, 1000, 2000, 3000
    assert [(row.category, row.label, row.count) for row in overview.top_categories] == [
        ("HOW_TO", "How-to", 3),
        ("POLICY", "Policy", 2),
        ("", "Not classified", 1),
    ]


def test_overview_of_a_quiet_week_has_no_shares():
    overview = review.overview(now=NOW)

    assert (overview.today, overview.last_7_days) == (0, 0)
    assert overview.answered_share is None
    assert overview.down_vote_share is None
    assert overview.p50_latency_ms is None
    assert overview.top_categories == ()


def test_admin_index_shows_the_overview_to_reviewers(reviewer_client):
    _question(asked_at=timezone.now() - dt.timedelta(minutes=5), votes=("DOWN",))

    page = reviewer_client.get("/admin/").content.decode()

    assert 'class="qa-overview"' in page
    assert "of answers got a 👎" in page
    assert f"{reverse('admin:data_question_changelist')}?feedback=down" in page
    assert "not covered by the docs" in page
    assert f"{reverse('admin:data_question_changelist')}?status__exact=NOT_COVERED" in page


def test_admin_index_hides_the_overview_from_staff_who_cannot_see_questions():
    user = factories.UserFactory.create(username="other-staff", is_staff=True)

    page = admin_support.logged_in_client(user).get("/admin/").content.decode()

    assert 'class="qa-overview"' not in page


# The knowledge base.


def _source_with_documents() -> models.DocumentationSource:
    source = models.DocumentationSource.objects.create(
        name="handbook", root="/srv/handbook", base_url="https://docs.example.com/"
    )
    for index, chunk_count in enumerate((3, 1)):
        document = models.Document.objects.create(
            source=source,
            path=f"page-{index}.md",
            title=f"Page {index}",
            url=f"https://docs.example.com/page-{index}",
            content_hash="0" * 64,
            ingested_at=NOW,
        )
        for position in range(chunk_count):
            models.Chunk.objects.create(
                document=document, position=position, heading_path="Intro", text="Some text."
            )
    return source


def test_sources_list_their_documents_and_chunks(reviewer_client):
    _source_with_documents()

    response = reviewer_client.get(reverse("admin:data_documentationsource_changelist"))

    source = response.context["cl"].result_list[0]
    assert (source.document_count, source.chunk_count) == (2, 4)


def test_documents_show_chunk_counts_and_cannot_be_edited(reviewer_client):
    source = _source_with_documents()
    document = source.documents.get(path="page-0.md")

    listing = reviewer_client.get(reverse("admin:data_document_changelist"))
    page = reviewer_client.get(reverse("admin:data_document_change", args=[document.pk]))

    counts = {row.path: row.chunk_count for row in listing.context["cl"].result_list}
    assert counts == {"page-0.md": 3, "page-1.md": 1}
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert (
        reviewer_client.get(reverse("admin:data_chunk_changelist"), {"q": "text"}).status_code
        == 200
    )


def _jobs() -> list[tuple[str, dict]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT task_name, args FROM procrastinate_jobs ORDER BY id")
        return [
            (task, json.loads(args) if isinstance(args, str) else args)
            for task, args in cursor.fetchall()
        ]


def test_reingest_action_queues_a_job_per_source(admin_client):
    source = _source_with_documents()

    response = admin_client.post(
        reverse("admin:data_documentationsource_changelist"),
        {"action": "reingest", "_selected_action": [source.pk]},
    )

    assert response.status_code == 302
    assert _jobs() == [("reingest_source", {"source_id": source.pk})]


def test_reviewers_cannot_reingest(reviewer_client):
    source = _source_with_documents()

    reviewer_client.post(
        reverse("admin:data_documentationsource_changelist"),
        {"action": "reingest", "_selected_action": [source.pk]},
    )

    assert _jobs() == []


# Release notes.


def test_release_notes_page_renders_markdown_without_raw_html(reviewer_client):
    notes = models.ReleaseNotes.objects.create(
        repository="git@example.com:acme/app.git",
        from_ref="v1.1.0",
        to_ref="v1.2.0",
        from_sha="a" * 40,
        to_sha="b" * 40,
        version="1.2.0",
        markdown="## Features\n\n- **Search** is faster <script>alert(1)</script>\n",
        model="offline",
        commit_count=12,
        duration_ms=40,
        created_at=NOW,
    )

    page = reviewer_client.get(
        reverse("admin:data_releasenotes_change", args=[notes.pk])
    ).content.decode()

    assert "<h2>Features</h2>" in page
    assert "<strong>Search</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert b'name="_save"' not in page.encode()


def test_markdown_rendering_escapes_html_and_drops_script_links():
    html = safe_markdown.render_html(
        markdown='<b onclick="x()">hi</b> [a](javascript:alert(1)) [b](https://example.com)'
    )

    assert "<b" not in html
    assert 'href="javascript:' not in html
    assert '<a href="https://example.com">b</a>' in html


def test_slack_links_render_as_links():
    text = safe_markdown.slack_links_to_markdown(text="See <https://example.com/a|the page>.")

    assert text == "See [the page](https://example.com/a)."


# The job queue.


def test_job_queue_admin_is_for_superusers_only(admin_client, reviewer_client):
    jobs = reverse("admin:procrastinate_procrastinatejob_changelist")

    assert admin_client.get(jobs).status_code == 200
    assert reviewer_client.get(jobs).status_code == 403
    assert b"procrastinate" not in reviewer_client.get("/admin/").content.lower()
