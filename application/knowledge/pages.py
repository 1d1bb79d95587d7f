"""Show an ingested document's page to someone allowed to read it."""

from django.conf import settings

from domain.knowledge import document_pages


async def readable_page(
    *, document_id: int, signed: str, is_staff: bool
) -> document_pages.Page | None:
    """The page, or None when it does not exist or this reader may not see it: pages are
    open with the link's signature, to admin users, or to all with ``CHATBOT_DOCS_PUBLIC``."""
    allowed = (
        settings.CHATBOT_DOCS_PUBLIC
        or is_staff
        or (bool(signed) and document_pages.is_signed(document_id=document_id, signed=signed))
    )
    if not allowed:
        return None
    return await document_pages.page(document_id=document_id)
