"""The answer agent's view of the knowledge base: search results as passages it can cite.

Each search gives its database connection back before returning, because the model call that
follows can take seconds (CONVENTIONS.md, async rule 5).
"""

from application.agents import answer as answer_agent
from domain import database
from domain import search as search_module


async def search(*, query: str, limit: int) -> list[answer_agent.Passage]:
    try:
        results = await search_module.search(query=query, limit=limit)
    finally:
        await database.release()
    return [
        answer_agent.Passage(
            chunk_id=result.chunk_id,
            title=result.title,
            heading_path=result.heading_path,
            url=result.url,
            text=result.text,
            score=result.score,
        )
        for result in results
    ]
