"""``ingest_docs`` and ``search_docs`` from a terminal or a script."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db(transaction=True)


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def guide(tmp_path):
    (tmp_path / "asking.md").write_text(
        "# Asking questions\n\nMention the bot in a channel.\n\n"
        "## Feedback\n\nReact with a thumbs up when the answer helped.\n"
    )
    (tmp_path / "admin.rst").write_text(
        "Reviewing\n=========\n\nStaff review every answer in :doc:`the admin <admin>`.\n"
    )
    (tmp_path / "broken.md").write_bytes(b"# Broken\n\n\xff\xfe")
    return tmp_path


def test_ingest_prints_a_summary_and_names_skipped_files(guide):
    out, err = _run("ingest_docs", str(guide), "--source", "guide")

    assert out.startswith(
        "2 added, 0 updated, 0 unchanged, 0 removed, 1 failed documents; 3 chunks written in "
    )
    assert err.startswith("skipped broken.md: not UTF-8 text")

    again, _err = _run("ingest_docs", str(guide), "--source", "guide", "--prune")
    assert again.startswith("0 added, 0 updated, 2 unchanged, 0 removed, 1 failed documents")


def test_ingest_refuses_a_missing_path_a_bad_source_name_and_a_bad_base_url(guide):
    with pytest.raises(CommandError, match="no such file or directory"):
        _run("ingest_docs", str(guide / "missing"), "--source", "guide")
    with pytest.raises(CommandError, match="--source must be a name"):
        _run("ingest_docs", str(guide), "--source", "x" * 101)
    with pytest.raises(CommandError, match="--base-url is not an http"):
        _run("ingest_docs", str(guide), "--source", "guide", "--base-url", "docs.example.com")


def test_ingest_refuses_a_path_outside_the_source_unless_told_to_move_it(guide, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "asking.md").write_text("# Asking questions\n\nAsk in a direct message.\n")
    _run("ingest_docs", str(guide), "--source", "guide")

    with pytest.raises(CommandError, match=r"outside the root of source 'guide'.*--move"):
        _run("ingest_docs", str(elsewhere), "--source", "guide", "--prune")

    out, _err = _run("ingest_docs", str(elsewhere), "--source", "guide", "--prune", "--move")
    assert out.startswith("0 added, 1 updated, 0 unchanged, 1 removed")


def test_ingest_without_base_url_keeps_the_stored_links(guide):
    _run("ingest_docs", str(guide), "--source", "guide", "--base-url", "https://x.test/")
    (guide / "admin.rst").write_text("Reviewing\n=========\n\nStaff review every answer.\n")

    _run("ingest_docs", str(guide), "--source", "guide", "--prune")

    out, _err = _run("search_docs", "who reviews the answers", "--json")
    assert json.loads(out)[0]["url"] == "https://x.test/admin/#reviewing"


def test_search_prints_ranked_passages_with_links(guide):
    _run("ingest_docs", str(guide), "--source", "guide", "--base-url", "https://x.test/guide")

    out, _err = _run("search_docs", "how do I give feedback on an answer?", "--limit", "1")

    first, link, snippet = out.splitlines()
    assert first.startswith("1. Asking questions > Feedback  (")
    assert link == "   https://x.test/guide/asking.md#feedback"
    assert "**answer**" in snippet


def test_search_json_lists_objects_for_scripts(guide):
    _run("ingest_docs", str(guide), "--source", "guide", "--base-url", "https://x.test/")

    out, _err = _run("search_docs", "who reviews the answers", "--json")

    results = json.loads(out)
    assert results[0]["title"] == "Reviewing"
    assert results[0]["heading"] == "Reviewing"
    assert results[0]["path"] == "admin.rst"
    assert results[0]["url"] == "https://x.test/admin/#reviewing"
    assert "**review**" in results[0]["snippet"]
    assert isinstance(results[0]["score"], float)
    assert {"url", "title", "heading", "path", "score", "snippet"} <= set(results[0])


@pytest.mark.parametrize("limit", ["0", "-3", "51", "two"])
def test_search_refuses_a_limit_it_could_not_honour(limit):
    with pytest.raises(CommandError, match="argument --limit: "):
        _run("search_docs", "feedback", "--limit", limit)


def test_search_says_so_when_nothing_matches(guide):
    out, _err = _run("search_docs", "quantum chromodynamics")

    assert out == "No results.\n"
