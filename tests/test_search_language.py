"""Each source is indexed and searched in its own language (PostgreSQL text search config)."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from data import models

pytestmark = pytest.mark.django_db(transaction=True)


def _ingest(*args: str) -> str:
    out = io.StringIO()
    call_command("ingest_docs", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _found(query: str) -> list[str]:
    out = io.StringIO()
    call_command("search_docs", query, "--json", stdout=out)
    return [result["path"] for result in json.loads(out.getvalue())]


@pytest.fixture
def recettes(tmp_path):
    folder = tmp_path / "recettes"
    folder.mkdir()
    (folder / "repas.md").write_text(
        "# Les repas\n\nNous aimons manger ensemble à la cantine le midi.\n"
    )
    return folder


@pytest.fixture
def handbook(tmp_path):
    folder = tmp_path / "handbook"
    folder.mkdir()
    (folder / "leave.md").write_text("# Leave\n\nHolidays are requested in the HR portal.\n")
    return folder


def test_a_french_source_is_found_by_french_inflections(recettes, handbook):
    _ingest(str(recettes), "--source", "recettes", "--language", "french")
    _ingest(str(handbook), "--source", "handbook")

    assert _found("mangeons") == ["repas.md"]
    assert _found("requesting holiday") == ["leave.md"]
    assert models.DocumentationSource.objects.get(name="recettes").language == "french"


def test_changing_a_sources_language_reindexes_its_sections(recettes):
    _ingest(str(recettes), "--source", "recettes")
    assert _found("nous le midi") == ["repas.md"]  # not English stop words

    summary = _ingest(str(recettes), "--source", "recettes", "--language", "french")

    assert summary.startswith("0 added, 0 updated, 1 unchanged")
    assert _found("nous le") == []  # French stop words now
    assert _found("mangeons") == ["repas.md"]
    _ingest(str(recettes), "--source", "recettes")  # without --language: stays French
    assert _found("mangeons") == ["repas.md"]


def test_an_unknown_language_is_refused_naming_the_known_ones(recettes):
    with pytest.raises(CommandError, match=r"--language: .*'klingon'.*french.*simple"):
        _ingest(str(recettes), "--source", "recettes", "--language", "klingon")

    assert not models.DocumentationSource.objects.exists()
