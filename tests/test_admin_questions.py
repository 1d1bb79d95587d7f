"""Reviewers find, read, review and export questions in Django admin."""

import csv
import datetime as dt
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from application.answering import again
from chatbot.admin import questions as questions_admin
from data import models
from tests import admin_support, factories

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:data_question_changelist")


def change_url(question: models.Question) -> str:
    return reverse("admin:data_question_change", args=[question.pk])


def listed_ids(response) -> set[int]:
    return {question.pk for question in response.context["cl"].result_list}


def answered_question(*, votes: tuple[str, ...] = (), **fields) -> models.Question:
    question = factories.QuestionFactory.create(**fields)
    answer = factories.AnswerFactory.create(question=question)
    factories.CitationFactory.create(answer=answer, position=1)
    factories.AgentRunFactory.create(question=question)
    for vote in votes:
        factories.FeedbackFactory.create(answer=answer, vote=vote)
    return question


@pytest.fixture
def reviewer():
    return admin_support.make_reviewer()


@pytest.fixture
def reviewer_client(reviewer) -> Client:
    return admin_support.logged_in_client(reviewer)


# Permissions.


def test_reviewers_group_can_view_everything_and_change_only_questions_and_requests():
    group = admin_support.reviewers_group()

    codenames = set(group.permissions.values_list("codename", flat=True))

    assert codenames == {
        "view_question",
        "view_answer",
        "view_citation",
        "view_agentrun",
        "view_feedback",
        "view_documentationsource",
        "view_document",
        "view_chunk",
        "view_releasenotes",
        "view_escalation",
        "change_question",
        "resolve_escalation",
        # Evals: reviewers keep the eval cases and read the runs.
        "add_evalcase",
        "change_evalcase",
        "delete_evalcase",
        "view_evalcase",
        "view_evalrun",
        "view_evalresult",
    }


@pytest.mark.parametrize("page", ["changelist", "change", "index"])
def test_anonymous_visitor_gets_the_login_page_never_data(client, page):
    question = answered_question(text="Where is the secret salary sheet?")
    url = {"changelist": CHANGELIST, "change": change_url(question), "index": "/admin/"}[page]

    response = client.get(url, follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("admin:login"))
    assert b"secret salary sheet" not in response.content


def test_non_staff_user_gets_the_login_page_never_data():
    question = answered_question(text="Where is the secret salary sheet?")
    user = factories.UserFactory.create(username="staffless", is_staff=False)
    user.user_permissions.add(*Permission.objects.filter(codename="view_question"))

    response = admin_support.logged_in_client(user).get(change_url(question), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("admin:login"))
    assert b"secret salary sheet" not in response.content


def test_reviewer_can_change_only_the_review_fields(reviewer, reviewer_client):
    question = answered_question(text="Original question", status="ANSWERED")
    page = reviewer_client.get(change_url(question))
    data = admin_support.form_data(page.content, "question_form")
    assert set(data) & {"text", "status", "category", "asked_at_0"} == set()

    data.update(
        text="Tampered question",
        status="FAILED",
        reviewed="on",
        review_note="Cites the right page.",
        quality_rating="4",
    )
    response = reviewer_client.post(change_url(question), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    question.refresh_from_db()
    assert question.text == "Original question"
    assert question.status == "ANSWERED"
    assert question.reviewed is True
    assert question.reviewer == reviewer
    assert question.reviewed_at is not None
    assert question.review_note == "Cites the right page."
    assert question.quality_rating == 4


def test_saving_a_review_keeps_what_a_job_wrote_meanwhile(reviewer_client, monkeypatch):
    question = answered_question(status="ANSWERED")
    data = admin_support.form_data(
        reviewer_client.get(change_url(question)).content, "question_form"
    )
    data.update(reviewed="on")
    real_save_form = questions_admin.QuestionAdmin.save_form

    def job_writes_meanwhile(self, request, form, change):
        """After admin loaded the row and before it saves it, a job marks the question."""
        models.Question.objects.filter(pk=question.pk).update(
            status="FAILED", error="TimeoutError: the model did not answer"
        )
        return real_save_form(self, request, form, change)

    monkeypatch.setattr(questions_admin.QuestionAdmin, "save_form", job_writes_meanwhile)

    response = reviewer_client.post(change_url(question), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    question.refresh_from_db()
    assert (question.status, question.reviewed) == ("FAILED", True)


def test_unticking_reviewed_clears_the_reviewer(reviewer, reviewer_client):
    question = answered_question(reviewed=True, reviewer=reviewer, reviewed_at=timezone.now())
    data = admin_support.form_data(
        reviewer_client.get(change_url(question)).content, "question_form"
    )
    data.pop("reviewed")

    reviewer_client.post(change_url(question), data)

    question.refresh_from_db()
    assert (question.reviewed, question.reviewer, question.reviewed_at) == (False, None, None)


def test_reviewer_cannot_add_or_delete_questions(reviewer_client):
    question = answered_question()

    assert reviewer_client.get(reverse("admin:data_question_add")).status_code == 403
    delete = reverse("admin:data_question_delete", args=[question.pk])
    assert reviewer_client.get(delete).status_code == 403
    assert reviewer_client.post(delete, {"post": "yes"}).status_code == 403
    assert models.Question.objects.filter(pk=question.pk).exists()


def test_reviewer_can_read_but_not_change_answers_elsewhere(reviewer_client):
    answered_question(votes=("DOWN",))

    assert reviewer_client.get(reverse("admin:data_feedback_changelist")).status_code == 200
    runs = reviewer_client.get(reverse("admin:data_agentrun_changelist"))
    run = models.AgentRun.objects.get()
    assert reverse("admin:data_question_change", args=[run.question_id]) in runs.content.decode()
    response = reviewer_client.get(reverse("admin:data_agentrun_change", args=[run.pk]))
    assert response.status_code == 200
    assert b'name="_save"' not in response.content


# The changelist: columns, filters, search.


def test_changelist_shows_vote_counts_per_question(admin_client):
    question = answered_question(votes=("UP", "UP", "DOWN"))
    factories.FeedbackFactory.create(
        answer=factories.AnswerFactory.create(question=question), vote="DOWN"
    )

    response = admin_client.get(CHANGELIST)

    row = response.context["cl"].result_list[0]
    assert (row.up_votes, row.down_votes) == (2, 2)
    assert "👎" in response.content.decode()


def test_feedback_filter_finds_questions_by_vote(reviewer_client):
    down = answered_question(votes=("UP", "DOWN"))
    up = answered_question(votes=("UP",))
    silent = answered_question()

    def shown(value: str) -> set[int]:
        return listed_ids(reviewer_client.get(CHANGELIST, {"feedback": value}))

    assert shown("down") == {down.pk}
    assert shown("up") == {down.pk, up.pk}
    assert shown("none") == {silent.pk}


def test_status_category_reviewed_and_channel_filters(reviewer_client):
    failed = answered_question(status="FAILED", category="POLICY", channel_id="CPOLICY")
    reviewed = answered_question(reviewed=True)
    answered_question()

    def shown(**params: str) -> set[int]:
        return listed_ids(reviewer_client.get(CHANGELIST, params))

    assert shown(status__exact="FAILED") == {failed.pk}
    assert shown(category__exact="POLICY") == {failed.pk}
    assert shown(channel="CPOLICY") == {failed.pk}
    assert shown(reviewed__exact="1") == {reviewed.pk}


def test_channel_filter_lists_channels_not_each_persons_dm(reviewer_client):
    in_channel = answered_question(channel_id="CPOLICY")
    direct = answered_question(channel_id="D0DANA")

    page = reviewer_client.get(CHANGELIST).content.decode()
    direct_messages = reviewer_client.get(CHANGELIST, {"channel": "direct"})

    assert "?channel=CPOLICY" in page
    assert "channel=D0DANA" not in page
    assert listed_ids(direct_messages) == {direct.pk}
    assert in_channel.pk not in listed_ids(direct_messages)


def test_date_filter_and_hierarchy_narrow_to_the_period(reviewer_client):
    now = timezone.now()
    recent = answered_question(asked_at=now)
    old = answered_question(asked_at=now - dt.timedelta(days=400))

    past_week = reviewer_client.get(
        CHANGELIST,
        {
            "asked_at__gte": str(now - dt.timedelta(days=7)),
            "asked_at__lt": str(now + dt.timedelta(days=1)),
        },
    )
    old_year = reviewer_client.get(CHANGELIST, {"asked_at__year": str(old.asked_at.year)})

    assert listed_ids(past_week) == {recent.pk}
    assert old.pk in listed_ids(old_year)
    assert recent.pk not in listed_ids(old_year)


def test_search_finds_questions_by_question_or_answer_text_once(reviewer_client):
    by_question = answered_question(text="How do I rotate the VPN certificate?")
    by_answer = answered_question(text="Remote access broken")
    for _ in range(2):
        factories.AnswerFactory.create(question=by_answer, text="Rotate the VPN certificate first.")
    answered_question(text="Holiday policy")

    response = reviewer_client.get(CHANGELIST, {"q": "vpn certificate"})

    results = response.context["cl"].result_list
    assert sorted(q.pk for q in results) == sorted([by_question.pk, by_answer.pk])
    phrase = reviewer_client.get(CHANGELIST, {"q": '"certificate first"'})
    assert listed_ids(phrase) == {by_answer.pk}


# The question page.


def test_question_page_shows_answer_sources_runs_feedback_and_slack_link(reviewer_client):
    question = factories.QuestionFactory.create(
        text="How do I get a parking badge?", channel_id="CFAC", message_ts="1700000000.000100"
    )
    earlier = factories.QuestionFactory.create(
        text="Where is the office?",
        channel_id="CFAC",
        thread_ts=question.thread_ts,
        asked_at=question.asked_at - dt.timedelta(minutes=5),
    )
    old = factories.AnswerFactory.create(question=question, text="First answer")
    answer = factories.AnswerFactory.create(
        question=question,
        text="Ask **Facilities** via <https://example.com/form|the badge form>.",
        created_at=question.asked_at + dt.timedelta(minutes=1),
    )
    factories.CitationFactory.create(
        answer=answer, position=1, title="Parking", url="https://docs.example.com/parking"
    )
    factories.AgentRunFactory.create(
        question=question, model="openai:gpt-5-mini", outcome="TIMEOUT", error="took too long"
    )
    factories.FeedbackFactory.create(answer=answer, vote="DOWN", slack_user_id="UGRUMPY")
    factories.FeedbackFactory.create(answer=old, vote="UP")

    page = reviewer_client.get(change_url(question)).content.decode()

    assert "How do I get a parking badge?" in page
    assert "<strong>Facilities</strong>" in page
    assert '<a href="https://example.com/form">the badge form</a>' in page
    assert "First answer" in page
    assert '<a href="https://docs.example.com/parking"' in page
    assert "openai:gpt-5-mini" in page
    assert "took too long" in page
    assert "UGRUMPY" in page
    assert "https://slack.com/archives/CFAC/p1700000000000100" in page
    assert "Where is the office?" in page
    assert change_url(earlier) in page


def test_question_page_never_renders_html_from_the_answer(reviewer_client):
    question = factories.QuestionFactory.create(text="<img src=x onerror=alert(1)>")
    answer = factories.AnswerFactory.create(
        question=question,
        text="<script>alert('answer')</script> [click](javascript:alert(1)) "
        "![pixel](https://tracker.example/p.png)",
    )
    factories.CitationFactory.create(answer=answer, url="javascript:alert('citation')")

    page = reviewer_client.get(change_url(question)).content.decode()

    assert "<script>alert('answer')</script>" not in page
    assert "&lt;script&gt;" in page
    assert "<img src=x" not in page
    assert 'href="javascript:' not in page
    assert '<img src="https://tracker.example' not in page  # no remote fetch by the browser


# Actions.


def _run_action(client: Client, action: str, questions: list[models.Question]):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [question.pk for question in questions]},
    )


def test_mark_reviewed_action_records_who_and_when(reviewer, reviewer_client):
    first, second = answered_question(), answered_question()
    untouched = answered_question()

    response = _run_action(reviewer_client, "mark_reviewed", [first, second])

    assert response.status_code == 302
    reviewed = models.Question.objects.filter(reviewed=True)
    assert set(reviewed.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert set(reviewed.values_list("reviewer", flat=True)) == {reviewer.pk}
    assert all(reviewed.values_list("reviewed_at", flat=True))
    untouched.refresh_from_db()
    assert untouched.reviewed is False


def test_export_csv_has_question_latest_answer_sources_and_votes(reviewer_client):
    asked = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    question = factories.QuestionFactory.create(
        text='Which VPN, "corp" or "guest"?',
        category="ACCESS",
        status="ANSWERED",
        asked_at=asked,
        asker_name="Dana",
    )
    factories.AnswerFactory.create(question=question, text="Old answer", created_at=asked)
    latest = factories.AnswerFactory.create(
        question=question,
        text="Use corp.\nNever guest.",
        created_at=asked + dt.timedelta(minutes=2),
    )
    factories.CitationFactory.create(
        answer=latest, position=2, title="VPN", url="https://docs.example.com/vpn"
    )
    factories.CitationFactory.create(answer=latest, position=1, title="Network", url="")
    factories.FeedbackFactory.create(answer=latest, vote="DOWN")
    factories.FeedbackFactory.create(answer=latest, vote="UP")
    other = answered_question()

    response = _run_action(reviewer_client, "export_csv", [question, other])

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="questions-')
    assert response.content.startswith("\ufeff".encode())  # spreadsheets then read UTF-8
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["question_id"] for row in rows] == [str(question.pk), str(other.pk)]
    row = rows[0]
    assert row["question"] == 'Which VPN, "corp" or "guest"?'
    assert row["answer"] == "Use corp.\nNever guest."
    assert row["answer_count"] == "2"
    assert row["sources"] == "Network\nVPN <https://docs.example.com/vpn>"
    assert (row["up_votes"], row["down_votes"]) == ("1", "1")
    assert (row["category"], row["status"], row["asker"]) == ("ACCESS", "ANSWERED", "Dana")
    assert row["asked_at"] == "2026-03-02T09:30:00+00:00"
    assert row["reviewed"] == "False"


def test_export_csv_keeps_spreadsheets_from_running_formulas(reviewer_client):
    question = answered_question(text='=HYPERLINK("https://evil.example","click")')
    spaced = answered_question(text=" =1+1")

    response = _run_action(reviewer_client, "export_csv", [question, spaced])

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["question"] for row in rows] == [
        '\'=HYPERLINK("https://evil.example","click")',
        "' =1+1",
    ]


def _jobs() -> list[tuple[str, dict]]:
    """The jobs queued, without the time of the request each carries."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT task_name, args FROM procrastinate_jobs ORDER BY id")
        jobs = [
            (task, json.loads(args) if isinstance(args, str) else args)
            for task, args in cursor.fetchall()
        ]
    for task, args in jobs:
        if task == "answer_again":
            assert args.pop("requested_at")[:4].isdigit()
    return jobs


def test_answer_again_action_queues_a_job_per_question(admin_client):
    first, second = answered_question(), answered_question()

    response = _run_action(admin_client, "answer_again", [second, first])

    assert response.status_code == 302
    assert _jobs() == [
        ("answer_again", {"question_id": first.pk}),
        ("answer_again", {"question_id": second.pk}),
    ]
    assert models.Answer.objects.count() == 2  # the old answers stay


def test_answer_again_refuses_a_runaway_selection(admin_client, monkeypatch):
    monkeypatch.setattr(again, "LIMIT", 2)
    selected = [answered_question() for _ in range(3)]

    response = _run_action(admin_client, "answer_again", selected)

    assert response.status_code == 302
    assert _jobs() == []
    page = admin_client.get(response["Location"]).content.decode()
    assert "Select at most 2 questions to answer again; nothing queued." in page


def test_reviewers_cannot_answer_again_without_the_permission_for_it(reviewer, reviewer_client):
    question = answered_question()

    assert "answer_again" not in reviewer_client.get(CHANGELIST).content.decode()
    _run_action(reviewer_client, "answer_again", [question])
    assert _jobs() == []

    reviewer.user_permissions.add(Permission.objects.get(codename="answer_again_question"))
    granted = admin_support.logged_in_client(get_user_model().objects.get(pk=reviewer.pk))
    _run_action(granted, "answer_again", [question])
    assert _jobs() == [("answer_again", {"question_id": question.pk})]


def test_users_who_can_only_view_cannot_answer_again_or_mark_reviewed():
    question = answered_question()
    viewer = factories.UserFactory.create(username="viewer", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_question"))
    client = admin_support.logged_in_client(viewer)

    page = client.get(CHANGELIST).content.decode()
    _run_action(client, "answer_again", [question])
    _run_action(client, "mark_reviewed", [question])

    assert "export_csv" in page
    assert "answer_again" not in page
    assert _jobs() == []
    question.refresh_from_db()
    assert question.reviewed is False


# Query counts: fixed however many rows, answers, sources and runs.


def _queries_for(client: Client, url: str) -> int:
    client.get(url)  # warm per-process caches (content types), as a running server has them
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def _busy_question() -> models.Question:
    question = factories.QuestionFactory.create()
    for _ in range(4):
        answer = factories.AnswerFactory.create(question=question)
        factories.CitationFactory.create_batch(3, answer=answer)
        factories.FeedbackFactory.create_batch(2, answer=answer, vote="DOWN")
        factories.FeedbackFactory.create(answer=answer, vote="UP")
    factories.AgentRunFactory.create_batch(5, question=question)
    factories.QuestionFactory.create_batch(
        49, thread_ts=question.thread_ts, asked_at=question.asked_at - dt.timedelta(minutes=1)
    )
    return question


def test_changelist_query_count_is_the_same_for_1_and_50_questions(reviewer_client):
    answered_question(votes=("DOWN",))
    one = _queries_for(reviewer_client, CHANGELIST)
    one_filtered = _queries_for(reviewer_client, f"{CHANGELIST}?feedback=down&q=access")

    for _ in range(49):
        answered_question(votes=("UP", "DOWN"))
    fifty = _queries_for(reviewer_client, CHANGELIST)
    fifty_filtered = _queries_for(reviewer_client, f"{CHANGELIST}?feedback=down&q=access")

    assert one == fifty
    assert one_filtered == fifty_filtered
    assert fifty <= 12


def test_question_page_query_count_does_not_grow_with_answers_sources_and_runs(reviewer_client):
    simple = answered_question()  # one answer, one source, one run, no votes
    busy = _busy_question()

    one_of_everything = _queries_for(reviewer_client, change_url(simple))
    many_of_everything = _queries_for(reviewer_client, change_url(busy))

    assert one_of_everything == many_of_everything
    assert many_of_everything <= 12


# Why a 👎, and requests for a person.


def test_a_thumbs_down_shows_its_reason_and_comment_on_the_question(reviewer_client):
    answer = factories.AnswerFactory.create()
    factories.FeedbackFactory.create(
        answer=answer, vote="DOWN", reason="OUTDATED", comment="The flag was renamed in May."
    )

    page = reviewer_client.get(
        reverse("admin:data_question_change", args=[answer.question_id])
    ).content.decode()
    votes = reviewer_client.get(reverse("admin:data_feedback_changelist") + "?reason=OUTDATED")

    assert "Outdated" in page
    assert "The flag was renamed in May." in page
    assert "The flag was renamed in May." in votes.content.decode()


def test_reviewers_follow_requests_for_a_person_and_mark_them_answered(reviewer_client):
    asked = factories.AnswerFactory.create(question__text="Who approves VPN access?")
    other = factories.AnswerFactory.create(question__text="Where is the holiday calendar?")
    escalation = models.Escalation.objects.create(
        question=asked.question,
        answer=asked,
        requested_by="U777",
        target_channel_id="CHELP",
        requested_at=timezone.now(),
    )

    listed = reviewer_client.get(reverse("admin:data_escalation_changelist")).content.decode()
    escalated = reviewer_client.get(
        reverse("admin:data_question_changelist") + "?escalation=open"
    ).content.decode()
    response = reviewer_client.post(
        reverse("admin:data_escalation_changelist"),
        {"action": "mark_answered", "_selected_action": [escalation.pk]},
    )

    assert "Who approves VPN access?" in listed
    assert "Who approves VPN access?" in escalated
    assert other.question.text not in escalated
    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.state == "ANSWERED"


def test_the_list_shows_people_and_channels_by_name_where_slack_gave_one(reviewer_client):
    factories.QuestionFactory.create(
        asker_id="U123", asker_name="Ada", channel_id="C1", channel_name="#deploys"
    )
    factories.QuestionFactory.create(asker_id="U999", asker_name="", channel_id="C9")

    page = reviewer_client.get(CHANGELIST).content.decode()

    assert "Ada" in page
    assert "#deploys" in page
    assert "U999" in page
    assert "C9" in page


def test_a_persons_answer_becomes_the_reviewed_answer_in_one_click(reviewer_client):
    asked = factories.AnswerFactory.create(question__text="Who approves VPN access?")
    escalation = models.Escalation.objects.create(
        question=asked.question,
        requested_by="U777",
        target_channel_id="CHELP",
        requested_at=timezone.now(),
        state="ANSWERED",
        person_answer="Your manager approves it in the IT portal.",
        answered_by="U0IT",
        answered_at=timezone.now(),
    )

    response = reviewer_client.post(
        reverse("admin:data_escalation_changelist"),
        {"action": "make_reviewed_answer", "_selected_action": [escalation.pk]},
    )

    assert response.status_code == 302
    [in_force] = models.ReviewedAnswer.objects.all()
    assert (in_force.question_id, in_force.text) == (
        asked.question_id,
        "Your manager approves it in the IT portal.",
    )
    assert in_force.document is not None  # in search
