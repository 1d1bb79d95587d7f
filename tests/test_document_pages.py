"""Every citation links somewhere: sections of a source with no base URL link to the product's
own read-only page for the document, opened by the link's signature."""

from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction
from django.test import Client
from django.utils import timezone

from application.answering import passages
from domain.knowledge import chunking, documents
from tests import admin_support

pytestmark = pytest.mark.django_db(transaction=True)


def _runbook_without_a_base_url() -> int:
    with transaction.atomic():
        source_id = documents.save_source(name="runbooks", root="/srv/runbooks", base_url="")
        parsed = chunking.ParsedDocument(
            title="Deploying",
            sections=[
                chunking.Section(
                    headings=("Deploying", "Rollbacks"),
                    anchor="rollbacks",
                    text="To roll back a deploy, run:\n\n```sh\nmake rollback\n```",
                ),
            ],
        )
        documents.save_document(
            source_id=source_id,
            path="deploying.md",
            title="Deploying",
            url="",
            content_hash="x",
            chunks=chunking.chunk(document=parsed),
            now=timezone.now(),
        )
    return source_id


def _cited_link(settings) -> str:
    settings.CHATBOT_PUBLIC_URL = "https://bot.example.com/"
    _runbook_without_a_base_url()
    [passage] = async_to_sync(passages.search)(query="roll back a deploy", limit=1)
    return passage.url


def test_a_section_without_a_published_page_links_to_the_products_page(settings):
    url = _cited_link(settings)

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "bot.example.com")
    assert parts.path.startswith("/docs/")
    assert parts.query.startswith("s=")
    assert parts.fragment == "rollbacks"

    page = Client().get(f"{parts.path}?{parts.query}")

    assert page.status_code == 200
    html = page.content.decode()
    assert '<section id="rollbacks">' in html
    assert "<h2>Rollbacks</h2>" in html
    assert "make rollback" in html
    assert page["Referrer-Policy"] == "no-referrer"


def test_without_a_public_address_there_is_no_link(settings):
    settings.CHATBOT_PUBLIC_URL = ""
    _runbook_without_a_base_url()

    [passage] = async_to_sync(passages.search)(query="roll back a deploy", limit=1)

    assert passage.url == ""


@pytest.mark.parametrize("query", ["", "?s=forged", "?s="])
def test_a_page_without_its_signature_is_not_found(settings, query):
    path = urlsplit(_cited_link(settings)).path

    assert Client().get(f"{path}{query}").status_code == 404


def test_admin_users_and_everyone_with_docs_public_read_pages_without_a_signature(settings):
    path = urlsplit(_cited_link(settings)).path

    staff = admin_support.logged_in_client(admin_support.make_reviewer())
    assert staff.get(path).status_code == 200
    settings.CHATBOT_DOCS_PUBLIC = True
    assert Client().get(path).status_code == 200


def test_a_signature_opens_only_its_own_document(settings):
    url = _cited_link(settings)
    parts = urlsplit(url)
    document_id = int(parts.path.split("/")[2])

    assert Client().get(f"/docs/{document_id + 1}/?{parts.query}").status_code == 404
