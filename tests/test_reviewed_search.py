"""A reviewed answer is found by search itself and cited first when it matches the question
well, even where plain relevance ranks a handbook full of pages on the subject above it."""

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils import timezone

from application.answering import passages
from application.knowledge import reviewed
from domain.knowledge import chunking, documents, search
from tests.factories import QuestionFactory

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "How do I roll back a deploy of the billing service?"
CORRECTION = (
    "Roll back the billing service deploy with `make rollback ENV=production`; the previous "
    "release is deployed again within a minute."
)
TOPICS = ["billing", "search", "accounts", "reports", "mailer", "gateway", "scheduler"]


def _store_handbook() -> None:
    """Seven pages on rolling back deploys, three sections each: plain relevance loves them."""
    now = timezone.now()
    with transaction.atomic():
        source_id = documents.save_source(name="handbook", root="/docs", base_url="")
        for topic in TOPICS:
            title = f"Deploying the {topic} service"
            parsed = chunking.ParsedDocument(
                title=title,
                sections=[
                    chunking.Section(
                        headings=(title, heading),
                        anchor=heading.lower().replace(" ", "-"),
                        text=f"To roll back a {topic} service deploy, {detail}. Each deploy of "
                        f"the {topic} service can be rolled back; roll back the deploy when in "
                        "doubt, then deploy the fix.",
                    )
                    for heading, detail in (
                        ("Roll back a deploy", "run the deploy pipeline's roll back step"),
                        ("Deploy checks", "check the deploy dashboard first"),
                        ("Rollback history", "note the deploy you roll back in the log"),
                    )
                ],
            )
            documents.save_document(
                source_id=source_id,
                path=f"deploy/{topic}.md",
                title=title,
                url="",
                content_hash=topic,
                chunks=chunking.chunk(document=parsed),
                now=now,
            )


def _store_as_a_plain_page(*, heading: str, text: str) -> None:
    """A page laid out like a reviewed answer: the question as its heading, the answer below."""
    with transaction.atomic():
        source_id = documents.save_source(name="notes", root="/notes", base_url="")
        parsed = chunking.ParsedDocument(
            title="Answer",
            sections=[chunking.Section(headings=("Answer", heading), anchor="answer", text=text)],
        )
        documents.save_document(
            source_id=source_id,
            path="answer.md",
            title="Answer",
            url="",
            content_hash="answer",
            chunks=chunking.chunk(document=parsed),
            now=timezone.now(),
        )


def _remove_the_plain_page() -> None:
    with transaction.atomic():
        source_id = documents.save_source(name="notes", root="/notes", base_url="")
        documents.delete_documents(source_id=source_id, paths=["answer.md"])


async def _publish(text: str, *, question: str = QUESTION) -> int:
    asked = await QuestionFactory.acreate(text=question)
    return await sync_to_async(reviewed.publish, thread_sensitive=True)(
        question_id=asked.pk, text=text, reviewer_id=None, reviewer_name="rita"
    )


@pytest.fixture
async def handbook() -> None:
    await sync_to_async(_store_handbook, thread_sensitive=True)()


async def test_a_reviewed_answer_ranked_below_the_top_five_is_still_cited_first(handbook):
    # The same words as an ordinary page: plain relevance puts it below the first five.
    await sync_to_async(_store_as_a_plain_page, thread_sensitive=True)(
        heading=QUESTION, text=CORRECTION
    )
    plain = [r.path for r in await search.search(query=QUESTION, limit=10)]
    assert "answer.md" not in plain[:5]
    await sync_to_async(_remove_the_plain_page, thread_sensitive=True)()

    await _publish(CORRECTION)

    [first, *rest] = await search.search(query=QUESTION, limit=5)
    assert first.reviewed
    assert "make rollback ENV=production" in first.text
    assert not any(result.reviewed for result in rest)
    cited = await passages.search(query=QUESTION, limit=5)
    assert cited[0].title.startswith("Reviewed by rita on ")


async def test_a_reviewed_answer_that_shares_only_a_word_does_not_come_first(handbook):
    await _publish(
        "Badges for the deploy party are at the front desk.", question="Where are the badges?"
    )

    results = await search.search(query="roll back a deploy of the reports service", limit=5)

    assert results[0].path == "deploy/reports.md"
    assert not any(result.reviewed for result in results)
