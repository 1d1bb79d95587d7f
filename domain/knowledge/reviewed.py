"""Reviewed answers as knowledge: each answer in force is one section of the "Reviewed
answers" source, found by the same search as every document and put first when it matches.

Writes are sync and run inside the caller's atomic block.
"""

import datetime as dt

from django.utils import formats, timezone
from django.utils.text import Truncator

from data import models
from domain.knowledge import chunking, documents

SOURCE = "Reviewed answers"


def _path(reviewed_id: int) -> str:
    return f"reviewed/{reviewed_id}"


def publish(
    *, question_id: int, text: str, reviewer_id: int | None, reviewer_name: str, now: dt.datetime
) -> int:
    """Put ``text`` in force as the answer to the question (retiring the one before); its id."""
    question = models.Question.objects.get(pk=question_id)
    for earlier in models.ReviewedAnswer.objects.filter(
        question_id=question_id, retired_at__isnull=True
    ):
        retire(reviewed_id=earlier.pk, now=now)
    reviewed = models.ReviewedAnswer.objects.create(
        question_id=question_id,
        question_text=question.text,
        text=text,
        reviewer_id=reviewer_id,
        reviewer_name=reviewer_name,
        created_at=now,
    )
    source_id = documents.save_source(name=SOURCE, root="", base_url="")
    day = formats.date_format(timezone.localtime(now), "DATE_FORMAT")
    title = f"Reviewed by {reviewer_name} on {day}"
    # The question is the section's heading: search weighs it as such, and the citation reads
    # "Reviewed by rita on Dec. 4 > <the question>" rather than the title twice.
    parsed = chunking.ParsedDocument(
        title=title,
        sections=[
            chunking.Section(
                headings=(title, Truncator(" ".join(question.text.split())).chars(150)),
                anchor="answer",
                text=text,
            )
        ],
    )
    documents.save_document(
        source_id=source_id,
        path=_path(reviewed.pk),
        title=title,
        url="",
        content_hash=f"reviewed-{reviewed.pk}",
        chunks=chunking.chunk(document=parsed),
        now=now,
    )
    reviewed.document = models.Document.objects.get(source_id=source_id, path=_path(reviewed.pk))
    reviewed.save(update_fields=["document"])
    return reviewed.pk


def retire(*, reviewed_id: int, now: dt.datetime) -> bool:
    """Take the answer out of search; its row stays as history. False if already retired."""
    updated = models.ReviewedAnswer.objects.filter(pk=reviewed_id, retired_at__isnull=True).update(
        retired_at=now
    )
    source = models.DocumentationSource.objects.filter(name=SOURCE).first()
    if updated and source is not None:
        documents.delete_documents(source_id=source.pk, paths=[_path(reviewed_id)])
    return bool(updated)
