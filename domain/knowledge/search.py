"""Search the documentation: BM25 over PostgreSQL's full-text index, re-ranked.

People ask whole questions ("how do I stop a slow query from running twice?"), so a chunk need
not contain every word: each query term counts by how rare it is in the documentation (BM25,
which PostgreSQL's own ``ts_rank`` lacks), with words in headings counting more than body text.
The scores come precomputed from ``knowledge_postings``, built from the chunks' generated
``search_vector`` (migration ``0003_knowledge_postings``). A word the documentation never uses
is replaced by the closest word it does use (pg_trgm over ``knowledge_word_stats``), so small
typos still find their section. The best candidates are then re-ranked on signals a reader
would use: the query's terms in the section's own heading, the document title and path, and
query words appearing side by side.

Everything runs in one sync function on one cursor, so on one connection, which the backend
gives back to the pool as the cursor closes (unless the caller is inside a transaction).
"""

import dataclasses
import itertools
import math
import re

from asgiref.sync import sync_to_async
from django.db import connection
from django.db.backends.utils import CursorWrapper

MAX_LIMIT = 50
HIGHLIGHT_START = "**"
HIGHLIGHT_STOP = "**"

# How many candidates the full-text stage hands to the re-ranker.
_POOL_SIZE = 30
# Longest questions keep only their rarest terms: more add noise and cost, not recall.
_MAX_TERMS = 16
# Pasted pages are read up to here (cut between words); the rest adds cost, not terms.
_MAX_QUERY_CHARS = 2000
# Words the documentation never uses that are looked up for a typo correction, the first ones
# of the query: each costs a trigram search, and a long paste can hold hundreds of them.
_MAX_CORRECTIONS = 8
# Least trigram similarity for replacing an unknown word (e.g. "mangers" -> "managers").
_MIN_TYPO_SIMILARITY = 0.45
# Re-ranking: the full-text score (scaled to at most 1) plus these signals, each in [0, 1].
_HEADING_WEIGHT = 0.35
_TITLE_WEIGHT = 0.2
_PATH_WEIGHT = 0.2
_ADJACENCY_WEIGHT = 0.3


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


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Term:
    lexeme: str
    position: int
    factor: float  # 1, or the similarity of a typo correction to the word it replaces
    weight: float  # inverse document frequency times factor
    share: float  # share of chunks containing it


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Candidate:
    chunk_id: int
    base: float
    heading: float
    title: float
    path: float
    adjacency: float
    score: float = 0.0


# The query's stemmed terms with their document frequencies, plus, for each word the
# documentation never uses (and whose stem it does not use either), the closest word it does.
_ANALYSE_SQL = """
WITH english AS (
    SELECT t.lexeme, t.positions[1] AS position, 1.0::float8 AS factor
    FROM unnest(to_tsvector('english', %(query)s)) AS t
),
unknown AS (
    SELECT t.lexeme AS word, t.positions[1] AS position
    FROM unnest(to_tsvector('simple', %(query)s)) AS t
    WHERE length(t.lexeme) >= 4
      AND t.lexeme !~ '[0-9]'
      AND to_tsvector('english', t.lexeme) <> ''::tsvector
      AND NOT EXISTS (SELECT 1 FROM knowledge_word_stats w WHERE w.word = t.lexeme)
      AND NOT EXISTS (
          SELECT 1 FROM knowledge_term_stats s
          WHERE s.word = ANY(tsvector_to_array(to_tsvector('english', t.lexeme)))
      )
    ORDER BY position, word
    LIMIT %(max_corrections)s
),
corrected AS (
    SELECT e.lexeme, u.position, best.similarity AS factor
    FROM unknown AS u
    CROSS JOIN LATERAL (
        SELECT w.word, similarity(w.word, u.word) AS similarity
        FROM knowledge_word_stats AS w
        WHERE w.word %% u.word
        ORDER BY similarity DESC, w.ndoc DESC, w.word
        LIMIT 1
    ) AS best
    CROSS JOIN LATERAL unnest(to_tsvector('english', best.word)) AS e
    WHERE best.similarity >= %(min_similarity)s
),
terms AS (
    SELECT * FROM english
    UNION ALL
    SELECT * FROM corrected
)
SELECT terms.lexeme, terms.position, terms.factor, coalesce(stats.ndoc, 0),
       (SELECT count(*) FROM data_chunk)
FROM terms
LEFT JOIN knowledge_term_stats AS stats ON stats.word = terms.lexeme
ORDER BY terms.position, terms.lexeme
"""


def _search(*, query: str, limit: int) -> list[SearchResult]:
    with connection.cursor() as cursor:
        cursor.execute(
            _ANALYSE_SQL,
            {
                "query": query,
                "min_similarity": _MIN_TYPO_SIMILARITY,
                "max_corrections": _MAX_CORRECTIONS,
            },
        )
        terms = _terms(cursor.fetchall())
        if not terms:
            return []
        candidates = _candidates(cursor, terms, pool=max(_POOL_SIZE, limit))
        if not candidates:
            return []  # terms known, but their chunks changed since the postings were built
        max_base = max(c.base for c in candidates)
        ranked = sorted(
            (_rerank(c, max_base=max_base) for c in candidates),
            key=lambda c: (-c.score, c.chunk_id),
        )[:limit]
        return _results(cursor, ranked, terms)


def _terms(rows: list[tuple[str, int, float, int, int]]) -> list[_Term]:
    total = max((row[4] for row in rows), default=0)
    best: dict[str, _Term] = {}
    for lexeme, position, factor, ndoc, _total in rows:
        if ndoc == 0:
            continue  # not in the documentation: it can neither find nor rank anything
        total = max(total, ndoc)  # the lexicon may be older than the chunk count
        idf = math.log(1 + (total - ndoc + 0.5) / (ndoc + 0.5))
        term = _Term(
            lexeme=lexeme,
            position=position,
            factor=factor,
            weight=idf * factor,
            share=ndoc / total,
        )
        if lexeme not in best or best[lexeme].weight < term.weight:
            best[lexeme] = term
    rarest = sorted(best.values(), key=lambda t: (-t.weight, t.lexeme))[:_MAX_TERMS]
    return sorted(rarest, key=lambda t: (t.position, t.lexeme))


def _quote(lexeme: str) -> str:
    """A lexeme as tsquery input, taken as it is (it is already stemmed)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _or_query(terms: list[_Term]) -> str:
    return " | ".join(_quote(t.lexeme) for t in terms)


def _candidates(cursor: CursorWrapper, terms: list[_Term], *, pool: int) -> list[_Candidate]:
    """The best-scoring chunks by BM25 over the postings, with the re-ranking signals."""
    pairs = [(a, b) for a, b in itertools.pairwise(terms) if a.lexeme != b.lexeme]
    params: dict[str, object] = {
        "lexemes": [t.lexeme for t in terms],
        "factors": [t.factor for t in terms],
        "pool": pool,
    }
    field_parts: dict[str, list[str]] = {"hv": [], "tv": [], "pv": []}
    pair_parts = []
    for i, term in enumerate(terms):
        params[f"t{i}"] = _quote(term.lexeme)
        params[f"w{i}"] = term.weight
        for field, parts in field_parts.items():
            parts.append(f"(CASE WHEN {field} @@ %(t{i})s::tsquery THEN %(w{i})s ELSE 0 END)")
    for i, (a, b) in enumerate(pairs):
        distance = max(1, b.position - a.position)
        params[f"p{i}"] = f"{_quote(a.lexeme)} <{distance}> {_quote(b.lexeme)}"
        params[f"pw{i}"] = (a.weight + b.weight) / 2
        pair_parts.append(f"(CASE WHEN sv @@ %(p{i})s::tsquery THEN %(pw{i})s ELSE 0 END)")
    sql = f"""
        WITH pool AS (
            SELECT p.chunk_id,
                   sum(p.score * (%(factors)s::float8[])[
                       array_position(%(lexemes)s::text[], p.lexeme)
                   ]) AS base
            FROM knowledge_postings AS p
            WHERE p.lexeme = ANY(%(lexemes)s::text[])
            GROUP BY p.chunk_id
            ORDER BY base DESC, p.chunk_id
            LIMIT %(pool)s
        )
        SELECT pool.chunk_id, pool.base,
               {" + ".join(field_parts["hv"])},
               {" + ".join(field_parts["tv"])},
               {" + ".join(field_parts["pv"])},
               {" + ".join(pair_parts) or "0"}
        FROM pool
        JOIN data_chunk AS c ON c.id = pool.chunk_id
        JOIN data_document AS d ON d.id = c.document_id
        CROSS JOIN LATERAL (
            -- Concatenating detoasts the search vector once per row, not once per phrase.
            SELECT c.search_vector || ''::tsvector AS sv,
                   to_tsvector('english', regexp_replace(c.heading_path, '^.* > ', '')) AS hv,
                   to_tsvector('english', d.title) AS tv,
                   to_tsvector('english', translate(d.path, '/_-.', '    ')) AS pv
            OFFSET 0
        ) AS fields
    """
    cursor.execute(sql, params)  # type: ignore[arg-type]
    total = sum(t.weight for t in terms)
    pair_total = sum((a.weight + b.weight) / 2 for a, b in pairs) or 1.0
    return [
        _Candidate(
            chunk_id=row[0],
            base=float(row[1]),
            heading=float(row[2]) / total,
            title=float(row[3]) / total,
            path=float(row[4]) / total,
            adjacency=float(row[5]) / pair_total,
        )
        for row in cursor.fetchall()
    ]


def _rerank(candidate: _Candidate, *, max_base: float) -> _Candidate:
    score = (
        (candidate.base / max_base if max_base > 0 else 0.0)
        + _HEADING_WEIGHT * candidate.heading
        + _TITLE_WEIGHT * candidate.title
        + _PATH_WEIGHT * candidate.path
        + _ADJACENCY_WEIGHT * candidate.adjacency
    )
    return dataclasses.replace(candidate, score=round(score, 4))


_RESULTS_SQL = f"""
SELECT c.id, d.title, c.heading_path, d.path, d.url, c.anchor, c.text,
       ts_headline(
           'english', c.text, %(query)s::tsquery,
           'StartSel="{HIGHLIGHT_START}", StopSel="{HIGHLIGHT_STOP}", MaxWords=30, MinWords=12,
            MaxFragments=2, FragmentDelimiter=" … "'
       )
FROM data_chunk AS c
JOIN data_document AS d ON d.id = c.document_id
WHERE c.id = ANY(%(ids)s)
"""


def _results(
    cursor: CursorWrapper, ranked: list[_Candidate], terms: list[_Term]
) -> list[SearchResult]:
    cursor.execute(_RESULTS_SQL, {"query": _or_query(terms), "ids": [c.chunk_id for c in ranked]})
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
            )
        )
    return results


def _tidy(snippet: str) -> str:
    return re.sub(r"\s+", " ", snippet).strip()
