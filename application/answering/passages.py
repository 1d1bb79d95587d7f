"""The answer agent's view of the knowledge base: search results as passages it can cite."""

from application.answering import agent as answer_agent
from domain.knowledge import search as search_module


async def search(*, query: str, limit: int) -> list[answer_agent.Passage]:
    results = await search_module.search(query=query, limit=limit)
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
