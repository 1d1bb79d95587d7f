"""The answer agent's view of the knowledge base: search results as passages it can cite.

Each search gives its database connection back before returning, because the model call that
follows can take seconds (CONVENTIONS.md, async rule 5).
"""

import logging

from application.agents import answer as answer_agent
from domain import database

logger = logging.getLogger(__name__)


async def search(*, query: str, limit: int) -> list[answer_agent.Passage]:
    try:
        # Knowledge-base search (domain.search) lands with the ingestion work; until then
        # every question is answered as not covered rather than guessed.
        return []
    finally:
        await database.release()
