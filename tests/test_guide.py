"""``make run`` ingests the user guide in ``docs/``, linked where the guide is published."""

import pytest
from django.core.management import call_command
from django.test import override_settings

from chatbot import launcher
from data import models

pytestmark = pytest.mark.django_db(transaction=True)


def _setup_page_url() -> str:
    return models.Document.objects.get(source__name="guide", path="setup.md").url


@override_settings(CHATBOT_GUIDE_BASE_URL="https://github.com/acme/chatbot/blob/main/docs/")
def test_the_guide_links_to_where_it_is_published():
    launcher.ingest_guide()

    assert _setup_page_url() == "https://github.com/acme/chatbot/blob/main/docs/setup.md"
    assert models.DocumentationSource.objects.get(name="guide").root == str(
        launcher.BASE_DIR / "docs"
    )


def test_the_guide_is_ingested_from_this_checkout_wherever_it_was_read_before(tmp_path):
    (tmp_path / "setup.md").write_text("# Setup\n\nAn older checkout's guide.\n")
    call_command("ingest_docs", str(tmp_path), "--source", "guide", "--base-url", "https://x.test/")

    launcher.ingest_guide()

    assert models.DocumentationSource.objects.get(name="guide").root == str(
        launcher.BASE_DIR / "docs"
    )
    assert _setup_page_url() == ""  # the setting is empty: no links
