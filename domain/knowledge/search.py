"""Search the documentation: BM25 and semantic similarity, fused, then re-ranked.

People ask whole questions ("how do I stop a slow query from running twice?"), so a chunk need
not contain every word: each query term counts by how rare it is (``search_terms``). The best
sections by BM25, the closest in meaning (``semantic``, wordllama vectors) and the reviewed
answers that match are the candidates (``search_candidates``); their full-text and semantic
orders are fused by reciprocal rank, then whole documents and reviewed answers are weighed
(``search_ranking``). Each result says whether it is a reviewed answer, and a reviewed answer
that matches well comes first.

Everything runs in one sync function on one cursor, so on one connection, which the backend
gives back to the pool as the cursor closes (unless the caller is inside a transaction).
"""

import dataclasses
import re

from asgiref.sync import sync_to_async
from django.db import connection
from django.db.backends.utils import CursorWrapper

from domain.knowledge import search_candidates, search_ranking, search_terms

MAX_LIMIT = 50
HIGHLIGHT_START = "**"
HIGHLIGHT_STOP = "**"

# How many candidates each of the full-text and the semantic stages hands to the ranking.
_POOL_SIZE = 30
_SEMANTIC_POOL_SIZE = 30
# Pasted pages are read up to here (cut between words); the rest adds cost, not terms.
_MAX_QUERY_CHARS = 2000


@dataclasses.dataclass(frozen=True, kw_only=True)
class SearchResult:
    chunk_id: int
    score: float
    title: str  # document title
    heading_path: str  # "Models > Managers > Custom managers"
    path: str  # document path relative to its source root
    url: str  # link with #anchor ('' when the source has no base URL)
    snippet: str  # highlighted excerpt
    text: str  # the chunk's full text (the answer agent quotes from it)
    reviewed: bool  # a reviewed answer (``domain/knowledge/reviewed.py``)


async def search(*, query: str, limit: int = 5) -> list[SearchResult]:
    """The ``limit`` chunks that best answer ``query``, best first."""
    limit = max(1, min(limit, MAX_LIMIT))
    query = query.replace("\0", " ")  # PostgreSQL text cannot hold NUL (pasted binary, bad clients)
    if not query.strip():
        return []
    query = _clip(query)
    return await sync_to_async(_search, thread_sensitive=True)(query=query, limit=limit)


def _clip(query: str) -> str:
    """The query's first ``_MAX_QUERY_CHARS``, without a cut-off word (it would read as a typo)."""
    if len(query) <= _MAX_QUERY_CHARS or query[_MAX_QUERY_CHARS].isspace():
        return query[:_MAX_QUERY_CHARS]
    clipped = query[:_MAX_QUERY_CHARS]
    return re.sub(r"\S+$", "", clipped) or clipped


def _search(*, query: str, limit: int) -> list[SearchResult]:
    # numpy only in the processes that search (docs/architecture.md, Start-up).
    from domain.knowledge import semantic

    with connection.cursor() as cursor:
        terms, totals = search_terms.analyse(cursor, query=query)
        if not terms or totals is None:
            return []  # no word the documentation uses: nothing relevant, whatever the vectors say
        closeness = semantic.closeness(cursor=cursor, generation=totals.generation, query=query)
        candidates = search_candidates.candidates(
            cursor,
            terms,
            totals=totals,
            pool=max(_POOL_SIZE, limit),
            close=closeness.nearest(limit=max(_SEMANTIC_POOL_SIZE, limit)),
        )
        cosines = closeness.of(chunk_ids=[c.chunk_id for c in candidates])
        candidates = [
            dataclasses.replace(c, cosine=cosine)
            for c, cosine in zip(candidates, cosines, strict=True)
        ]
        ranked = search_ranking.rank(candidates)[:limit]
        if not ranked:
            return []  # terms known, but their chunks changed meanwhile
        return _results(cursor, ranked, terms)


_RESULTS_SQL = f"""
SELECT c.id, d.title, c.heading_path, d.path, d.url, c.anchor, c.text,
       ts_headline(
           c.language, c.text, %(query)s::tsquery,
           'StartSel="{HIGHLIGHT_START}", StopSel="{HIGHLIGHT_STOP}", MaxWords=30, MinWords=12,
            MaxFragments=2, FragmentDelimiter=" … "'
       )
FROM data_chunk AS c
JOIN data_document AS d ON d.id = c.document_id
WHERE c.id = ANY(%(ids)s)
"""


def _results(
    cursor: CursorWrapper,
    ranked: list[search_candidates.Candidate],
    terms: list[search_terms.Term],
) -> list[SearchResult]:
    cursor.execute(
        _RESULTS_SQL,
        {"query": search_terms.or_query(terms), "ids": [c.chunk_id for c in ranked]},
    )
    rows = {row[0]: row for row in cursor.fetchall()}
    results = []
    for candidate in ranked:
        if candidate.chunk_id not in rows:
            continue  # re-ingested between the two statements
        _id, title, heading_path, path, url, anchor, text, snippet = rows[candidate.chunk_id]
        results.append(
            SearchResult(
                chunk_id=candidate.chunk_id,
                score=candidate.score,
                title=title,
                heading_path=heading_path,
                path=path,
                url=f"{url}#{anchor}" if url and anchor else url,
                snippet=_tidy(snippet),
                text=text,
                reviewed=candidate.reviewed,
            )
        )
    return results


def _tidy(snippet: str) -> str:
    return re.sub(r"\s+", " ", snippet).strip()
