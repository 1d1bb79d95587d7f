"""Search's term statistics follow every change at once, and equal a rebuild from scratch."""

import threading
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from application.knowledge import ingestion
from domain.knowledge import chunking, documents, search

pytestmark = pytest.mark.django_db(transaction=True)

# What migration 0020 builds from the stored chunks, computed again from scratch.
_FRESH = {
    "postings": """
        SELECT e.lexeme, e.chunk_id, e.tf, sum(e.tf) OVER (PARTITION BY e.chunk_id)
        FROM (
            SELECT c.id AS chunk_id, e.lexeme,
                   (3.0 * cardinality(array_positions(e.weights, 'A'))
                    + cardinality(e.positions)
                    - cardinality(array_positions(e.weights, 'A')))::float4 AS tf
            FROM data_chunk AS c, unnest(c.search_vector) AS e
        ) AS e
        ORDER BY 1, 2
    """,
    "terms": "SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM data_chunk') ORDER BY 1",
    "words": """
        SELECT word FROM ts_stat(
            'SELECT to_tsvector(''simple'', heading_path || '' '' || text) FROM data_chunk'
        )
        WHERE length(word) BETWEEN 3 AND 40 AND word !~ '[0-9]'
        ORDER BY 1
    """,
    "totals": """
        SELECT count(*), coalesce(sum(l), 0)::float8 FROM (
            SELECT sum((3.0 * cardinality(array_positions(e.weights, 'A'))
                        + cardinality(e.positions)
                        - cardinality(array_positions(e.weights, 'A')))::float4) AS l
            FROM data_chunk AS c LEFT JOIN LATERAL unnest(c.search_vector) AS e ON true
            GROUP BY c.id
        ) AS x
    """,
}
_KEPT = {
    "postings": "SELECT lexeme, chunk_id, tf, length FROM knowledge_postings ORDER BY 1, 2",
    "terms": "SELECT word, ndoc FROM knowledge_term_stats ORDER BY 1",
    "words": "SELECT word FROM knowledge_word_stats ORDER BY 1",
    "totals": "SELECT chunks, length FROM knowledge_totals",
}


def _statistics(queries: dict[str, str]) -> dict[str, list[tuple]]:
    with connection.cursor() as cursor:
        result = {}
        for name, sql in queries.items():
            cursor.execute(sql)
            result[name] = [
                tuple(round(v, 2) if isinstance(v, float) else v for v in row)
                for row in cursor.fetchall()
            ]
        return result


def _assert_statistics_equal_a_fresh_build() -> None:
    kept = _statistics(_KEPT)
    fresh = _statistics(_FRESH)
    assert kept["postings"] == fresh["postings"]
    assert kept["terms"] == fresh["terms"]
    # Words are only ever added (typo corrections): every word in use is there.
    assert set(kept["words"]) >= set(fresh["words"])
    assert kept["totals"] == fresh["totals"]


def _write(root: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)


async def test_statistics_after_adds_edits_and_removals_equal_a_rebuild(tmp_path):
    _write(
        tmp_path / "guide",
        {
            "setup.md": "# Setup\n\nInstall it.\n\n## Database\n\nPoint DATABASE_URL at it.\n",
            "slack.md": "# Slack\n\nPaste the signing secret. Paste the bot token.\n",
            "faq.rst": "FAQ\n===\n\nWhy\n---\n\nBecause colleagues ask the same things.\n",
        },
    )
    _write(tmp_path / "handbook", {"leave.md": "# Leave\n\nAsk your manager for leave.\n"})
    await ingestion.ingest(paths=[tmp_path / "guide"], source="guide")
    await ingestion.ingest(paths=[tmp_path / "handbook"], source="handbook")
    await sync(_assert_statistics_equal_a_fresh_build)

    _write(tmp_path / "guide", {"setup.md": "# Setup\n\nInstall it twice. Install it again.\n"})
    (tmp_path / "guide" / "faq.rst").unlink()
    await ingestion.ingest(paths=[tmp_path / "guide"], source="guide", prune=True)
    await sync(_assert_statistics_equal_a_fresh_build)

    await sync(_delete_source, name="handbook")
    await sync(_assert_statistics_equal_a_fresh_build)
    await ingestion.ingest(paths=[tmp_path / "guide"], source="guide", language="french")
    await sync(_assert_statistics_equal_a_fresh_build)
    await ingestion.ingest(paths=[tmp_path / "guide"], source="guide", language="english")
    assert await search.search(query="manager leave") == []
    [result] = await search.search(query="install twice", limit=1)
    assert result.path == "setup.md"


async def sync(fn, **kwargs):
    from asgiref.sync import sync_to_async

    return await sync_to_async(fn, thread_sensitive=True)(**kwargs)


def _delete_source(*, name: str) -> None:
    from data import models

    models.DocumentationSource.objects.filter(name=name).delete()


def _save(*, source_id: int, path: str, text: str) -> None:
    parsed = chunking.ParsedDocument(
        title=path, sections=[chunking.Section(headings=(path,), anchor="", text=text)]
    )
    with transaction.atomic():
        documents.save_document(
            source_id=source_id,
            path=path,
            title=path,
            url="",
            content_hash=text,
            chunks=chunking.chunk(document=parsed),
            now=timezone.now(),
        )


def test_a_document_is_found_as_soon_as_its_transaction_commits():
    source_id = documents.save_source(name="guide", root="/docs", base_url="")
    _save(source_id=source_id, path="setup.md", text="Run make run and wait for the green light.")

    [result] = search._search(query="green light", limit=5)

    assert result.path == "setup.md"


def test_writers_sharing_words_at_the_same_time_neither_deadlock_nor_miscount():
    source_id = documents.save_source(name="guide", root="/docs", base_url="")
    errors: list[BaseException] = []

    def writer(prefix: str) -> None:
        try:
            for round_ in range(15):
                for n in range(3):
                    # The same words in every document, each written again and again.
                    _save(
                        source_id=source_id,
                        path=f"{prefix}-{n}.md",
                        text=f"shared words about managers and querysets, round {round_} {prefix}",
                    )
        except BaseException as error:  # reported to the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    _assert_statistics_equal_a_fresh_build()
    assert len(search._search(query="shared managers", limit=50)) == 9
