"""The coverage gaps report: topics of questions not covered or disliked, and its CSV."""

import csv
import datetime as dt
import io

import pytest
from asgiref.sync import async_to_sync
from bs4 import BeautifulSoup
from django.utils import timezone

from application.knowledge import ingestion
from tests import admin_support, factories

pytestmark = pytest.mark.django_db(transaction=True)


def _gap(text, *, status="NOT_COVERED", votes=()):
    asked = timezone.now() - dt.timedelta(hours=2)
    question = factories.QuestionFactory.create(text=text, status=status, asked_at=asked)
    answer = factories.AnswerFactory.create(question=question)
    for vote in votes:
        factories.FeedbackFactory.create(answer=answer, vote=vote)
    return question


@pytest.fixture
def reviewer_client(tmp_path):
    (tmp_path / "vpn.md").write_text(
        "# VPN\n\n## Certificates\n\nRenew the VPN certificate in the IT portal.\n"
    )
    async_to_sync(ingestion.ingest)(paths=[tmp_path], source="guide")
    return admin_support.logged_in_client(admin_support.make_reviewer())


def test_gaps_group_not_covered_and_disliked_questions_by_topic_with_closest_documents(
    reviewer_client,
):
    _gap("Why does the VPN certificate expire every week?")
    _gap("Where do I renew the VPN certificate?", status="ANSWERED", votes=("DOWN",))
    _gap("Can I bring my dog to the office?")
    _gap("How do I reset the VPN?", status="ANSWERED", votes=("UP",))  # liked: no gap

    response = reviewer_client.get("/admin/gaps/?days=7")

    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    vpn = page.select_one("tr[data-topic=vpn]")
    assert vpn is not None
    cells = vpn.find_all("td")
    assert cells[1].get_text() == "2"
    assert "expire every week" in cells[2].get_text()
    assert "reset the VPN" not in cells[2].get_text()
    assert "Certificates" in cells[3].get_text()
    assert page.select_one("tr[data-topic=dog]") is not None


def test_gaps_export_streams_one_csv_row_per_example(reviewer_client):
    _gap("=HYPERLINK(1) why is the VPN slow?")

    response = reviewer_client.get("/admin/gaps/?days=7&format=csv")

    assert response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["topic", "gap questions", "question id"]
    vpn = next(row for row in rows if row[0] == "vpn")
    assert vpn[3].startswith("'=HYPERLINK")
    assert "VPN" in vpn[5]


def test_staff_who_cannot_see_questions_cannot_open_the_gaps():
    user = factories.UserFactory.create(username="other-staff", is_staff=True)

    response = admin_support.logged_in_client(user).get("/admin/gaps/")

    assert response.status_code == 403
