"""Read-only pages for ingested documents, so every citation links somewhere even when its
source is not published at a base URL (the bundled guide, a folder of files).

A page is ``/docs/<document id>/#<anchor>``: a document keeps its id when it is ingested
again (its sections are replaced), so links in old answers keep working. Links carry a
signature (``?s=…``, Django's signing with the secret key) that opens the page to whoever has
the link, as a link posted in Slack is meant to; without it only admin users see the page,
unless ``CHATBOT_DOCS_PUBLIC`` opens every page to everyone who can reach the server.
"""

import dataclasses

from django.core import signing

from data import models

_SALT = "chatbot.document_pages"


def signature(*, document_id: int) -> str:
    return signing.Signer(salt=_SALT).signature(str(document_id))


def is_signed(*, document_id: int, signed: str) -> bool:
    try:
        signing.Signer(salt=_SALT).unsign(f"{document_id}:{signed}")
    except signing.BadSignature:
        return False
    return True


def link(*, base_url: str, document_id: int, anchor: str) -> str:
    """The signed link to a document's page, at its section when ``anchor`` is given."""
    url = f"{base_url.rstrip('/')}/docs/{document_id}/?s={signature(document_id=document_id)}"
    return f"{url}#{anchor}" if anchor else url


@dataclasses.dataclass(frozen=True, kw_only=True)
class Section:
    heading_path: str
    anchor: str
    text: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Page:
    document_id: int
    title: str
    source: str
    path: str
    sections: list[Section]


async def page(*, document_id: int) -> Page | None:
    document = (
        await models.Document.objects.select_related("source").filter(pk=document_id).afirst()
    )
    if document is None:
        return None
    sections = [
        Section(heading_path=heading_path, anchor=anchor, text=text)
        async for heading_path, anchor, text in models.Chunk.objects.filter(document=document)
        .order_by("position", "id")
        .values_list("heading_path", "anchor", "text")
    ]
    return Page(
        document_id=document.pk,
        title=document.title,
        source=document.source.name,
        path=document.path,
        sections=sections,
    )


async def locations(*, chunk_ids: list[int]) -> dict[int, tuple[int, str]]:
    """``chunk id -> (document id, anchor)``, for linking sections to their pages."""
    return {
        chunk_id: (document_id, anchor)
        async for chunk_id, document_id, anchor in models.Chunk.objects.filter(
            pk__in=chunk_ids
        ).values_list("id", "document_id", "anchor")
    }
