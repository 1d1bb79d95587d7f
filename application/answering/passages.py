"""The answer agent's view of the knowledge base: search results as passages it can cite.

A reviewed answer that matches well comes first: search itself ranks it there
(``domain/knowledge/search_ranking.py``). Every passage
links somewhere: to its published page when its source has a base URL, else to
the product's own page for the document (``domain/knowledge/document_pages.py``), when the
server's public address (``CHATBOT_PUBLIC_URL``) is known.
"""

from django.conf import settings

from application.answering import agent as answer_agent
from domain.knowledge import document_pages
from domain.knowledge import search as search_module


async def search(*, query: str, limit: int) -> list[answer_agent.Passage]:
    results = await search_module.search(query=query, limit=limit)
    unlinked = [result.chunk_id for result in results if not result.url]
    base = settings.CHATBOT_PUBLIC_URL
    pages = await document_pages.locations(chunk_ids=unlinked) if unlinked and base else {}
    return [
        answer_agent.Passage(
            chunk_id=result.chunk_id,
            title=result.title,
            heading_path=result.heading_path,
            url=result.url
            or (
                document_pages.link(
                    base_url=base,
                    document_id=pages[result.chunk_id][0],
                    anchor=pages[result.chunk_id][1],
                )
                if result.chunk_id in pages
                else ""
            ),
            text=result.text,
            score=result.score,
        )
        for result in results
    ]
