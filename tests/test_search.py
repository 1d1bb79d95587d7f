"""Search finds the section that answers a question, phrased the way people ask it."""

import itertools

import pytest
from asgiref.sync import sync_to_async
from django.db import connections, transaction
from django.utils import timezone

from chatbot import units_of_work
from domain.knowledge import chunking, documents, search

pytestmark = pytest.mark.django_db(transaction=True)

CORPUS: dict[str, tuple[str, list[tuple[tuple[str, ...], str, str]]]] = {
    "topics/db/managers.md": (
        "Managers",
        [
            (
                ("Managers",),
                "managers",
                "A Manager is the interface through which database query operations are "
                "provided to Django models. At least one Manager exists for every model.",
            ),
            (
                ("Managers", "Custom managers"),
                "custom-managers",
                "You can use a custom Manager in a particular model by extending the base "
                "Manager class and instantiating your custom Manager in your model. There are "
                "two reasons you might want to customize a Manager: to add extra Manager "
                "methods, and/or to modify the initial QuerySet the Manager returns.",
            ),
        ],
    ),
    "topics/db/queries.md": (
        "Making queries",
        [
            (
                ("Making queries", "Caching and QuerySets"),
                "caching-and-querysets",
                "Each QuerySet contains a cache to minimize database access. The first time a "
                "QuerySet is evaluated, Django saves the query results in the QuerySet's cache "
                "and returns the results that have been explicitly requested. Subsequent "
                "evaluations of the QuerySet reuse the cached results.",
            ),
            (
                ("Making queries", "Retrieving objects"),
                "retrieving-objects",
                "To retrieve objects from your database, construct a QuerySet via a Manager "
                "on your model class. A QuerySet represents a collection of objects from "
                "your database.",
            ),
        ],
    ),
    "handbook/time-off.md": (
        "Time off",
        [
            (
                ("Time off", "Requesting holidays"),
                "requesting-holidays",
                "Submit your holiday request in the HR portal at least two weeks ahead. "
                "Your manager approves it; you get an email once it is approved.",
            ),
            (
                ("Time off", "Sick leave"),
                "sick-leave",
                "Tell your team lead before 10am when you are ill. From the fourth day a "
                "doctor's note is needed.",
            ),
        ],
    ),
    "howto/deployment.md": (
        "Deploying",
        [
            (
                ("Deploying", "Static files"),
                "static-files",
                "Run collectstatic during the deployment so the web server can serve CSS, "
                "JavaScript and images from STATIC_ROOT.",
            ),
        ],
    ),
}


def _store_corpus() -> None:
    now = timezone.now()
    with transaction.atomic():
        source_id = documents.save_source(
            name="handbook", root="/docs", base_url="https://docs.example.com/"
        )
        for path, (title, sections) in CORPUS.items():
            parsed = chunking.ParsedDocument(
                title=title,
                sections=[
                    chunking.Section(headings=headings, anchor=anchor, text=text)
                    for headings, anchor, text in sections
                ],
            )
            documents.save_document(
                source_id=source_id,
                path=path,
                title=title,
                url=f"https://docs.example.com/{path}",
                content_hash=path,
                chunks=chunking.chunk(document=parsed),
                now=now,
            )


@pytest.fixture
async def corpus() -> None:
    await sync_to_async(_store_corpus, thread_sensitive=True)()


async def test_paraphrased_question_finds_the_right_section_first(corpus):
    results = await search.search(
        query="how do I avoid hitting the database again when I reuse the same queryset?"
    )

    assert results[0].heading_path == "Making queries > Caching and QuerySets"


async def test_a_question_with_words_the_docs_never_use_still_matches(corpus):
    results = await search.search(
        query="what is the procedure for booking a few days of holiday next summer please"
    )

    assert results[0].heading_path == "Time off > Requesting holidays"


async def test_a_misspelt_word_still_finds_its_section(corpus):
    """The other words of these queries are not in the docs: only the corrected typos match."""
    managers = await search.search(query="writing custm mangers")
    deployment = await search.search(query="colectstatic")

    assert managers[0].heading_path == "Managers > Custom managers"
    assert deployment[0].heading_path == "Deploying > Static files"


async def test_result_links_to_the_section_and_highlights_the_match(corpus):
    [result] = await search.search(query="collectstatic", limit=1)

    assert result.url == "https://docs.example.com/howto/deployment.md#static-files"
    assert result.title == "Deploying"
    assert result.path == "howto/deployment.md"
    assert "**collectstatic**" in result.snippet
    assert result.text.startswith("Run collectstatic during the deployment")
    assert result.score > 0


async def test_limit_caps_the_results(corpus):
    results = await search.search(query="manager queryset model database", limit=2)

    assert len(results) == 2
    assert results[0].score >= results[1].score


async def test_nothing_is_found_for_words_the_docs_do_not_contain(corpus):
    assert await search.search(query="xylophone zeppelin") == []
    assert await search.search(query="   ") == []


async def test_a_query_with_nul_characters_is_searched_without_them(corpus):
    results = await search.search(query="run\x00collectstatic\x00")

    assert results[0].heading_path == "Deploying > Static files"
    assert await search.search(query="\x00 \x00") == []


def _words_the_docs_never_use(count: int) -> list[str]:
    letters = "bcdfghjklmnpqrstvwxz"
    return ["".join(w) for w in itertools.islice(itertools.product(letters, repeat=6), count)]


async def test_a_long_pasted_text_full_of_unknown_words_still_finds_its_sections(corpus):
    """Typo correction covers only the first unknown words; the query is read up to a cap."""
    noise = " ".join(_words_the_docs_never_use(400))
    pasted = f"colectstatic failed for mangers {noise} {noise}"

    results = await search.search(query=pasted, limit=3)

    assert len(pasted) > 5_000
    assert {r.heading_path for r in results} >= {"Deploying > Static files"}
    assert any(r.path == "topics/db/managers.md" for r in results)


def _connection_is_open() -> bool:
    return connections["default"].connection is not None


async def test_search_gives_its_connection_back_before_returning(corpus):
    """The answer agent waits on a model after searching: it must not hold a connection."""
    async with units_of_work.unit_of_work(log_id="answer"):
        results = await search.search(query="collectstatic")
        still_open = await sync_to_async(_connection_is_open, thread_sensitive=True)()

    assert results
    assert not still_open


async def test_each_document_gives_one_section_before_any_gives_a_second(corpus):
    # Both sections of the managers page match better than anything else does.
    results = await search.search(query="a custom Manager and its extra Manager methods", limit=3)

    paths = [result.path for result in results]
    assert paths[0] == "topics/db/managers.md"
    assert paths[1] != "topics/db/managers.md"  # another page comes second
