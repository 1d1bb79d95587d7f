"""Search the documentation: BM25 and semantic similarity, fused, then re-ranked.

People ask whole questions ("how do I stop a slow query from running twice?"), so a chunk need
not contain every word: each query term counts by how rare it is in the documentation (BM25,
which PostgreSQL's own ``ts_rank`` lacks), with words in headings counting more than body text.
BM25 is computed at query time from term statistics that triggers keep up to date as chunks
change (migration ``0020_knowledge_incremental_index``). A word the documentation never uses is
replaced by the closest word it does use (pg_trgm over ``knowledge_word_stats``), so small typos
still find their section. The best candidates are re-ranked on signals a reader would use: the
query's terms in the section's own heading, the document title and path, and query words
appearing side by side. Sections close in meaning (``semantic``, wordllama vectors) join the
candidates, and the two rankings are fused by reciprocal rank.

Everything runs in one sync function on one cursor, so on one connection, which the backend
gives back to the pool as the cursor closes (unless the caller is inside a transaction).
"""

import collections
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

# How many candidates each of the full-text and the semantic stages hands to the re-ranker.
_POOL_SIZE = 30
_SEMANTIC_POOL_SIZE = 30
# BM25's parameters.
_K1 = 1.2
_B = 0.75
# Reciprocal rank fusion: 1 / (k + rank) from each ranking, the semantic one weighted. A small
# k trusts the top of each ranking (tuned on bench/search_questions.json, k 5 to 60).
_RRF_K = 5
_SEMANTIC_WEIGHT = 0.5
# A section that shares no term with the question is a candidate only if this close in meaning:
# below it, "close" sections of a small corpus are merely the least far.
_MIN_SEMANTIC_ONLY_COSINE = 0.5
# A document several candidates come from is about the question: a section's fused score grows
# by this share for each other candidate of its document (the topic page beats a one-line
# mention in release notes).
_DOCUMENT_WEIGHT = 0.3
# Sections of one document beyond this many are moved behind the others: ten results from
# five documents give the reader (and the answer) more to go on than ten from one.
_MAX_PER_DOCUMENT = 2
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
    document_id: int
    base: float
    heading: float
    title: float
    path: float
    adjacency: float
    cosine: float = -1.0  # -1: not among the semantic candidates
    score: float = 0.0


# The query's stemmed terms with their document frequencies, plus, for each word the
# documentation never uses (and whose stem it does not use either), the closest word it does.
# The query is stemmed in the language of every source (a PostgreSQL text search configuration
# each, ``DocumentationSource.language``), since any of them may hold the answer.
_ANALYSE_SQL = """
WITH languages AS (
    SELECT DISTINCT c.oid::regconfig AS config
    FROM data_documentationsource AS s
    JOIN pg_ts_config AS c ON c.cfgname = s.language
),
stemmed AS (
    SELECT DISTINCT t.lexeme, t.positions[1] AS position, 1.0::float8 AS factor
    FROM languages AS l, unnest(to_tsvector(l.config, %(query)s)) AS t
),
unknown AS (
    SELECT t.lexeme AS word, t.positions[1] AS position
    FROM unnest(to_tsvector('simple', %(query)s)) AS t
    WHERE length(t.lexeme) >= 4
      AND t.lexeme !~ '[0-9]'
      AND EXISTS (SELECT 1 FROM languages AS l WHERE to_tsvector(l.config, t.lexeme) <> '')
      AND NOT EXISTS (SELECT 1 FROM knowledge_word_stats w WHERE w.word = t.lexeme)
      AND NOT EXISTS (
          SELECT 1 FROM languages AS l, knowledge_term_stats AS s
          WHERE s.word = ANY(tsvector_to_array(to_tsvector(l.config, t.lexeme)))
      )
    ORDER BY position, word
    LIMIT %(max_corrections)s
),
corrected AS (
    SELECT DISTINCT e.lexeme, u.position, best.similarity AS factor
    FROM unknown AS u
    CROSS JOIN LATERAL (
        SELECT w.word, similarity(w.word, u.word) AS similarity
        FROM knowledge_word_stats AS w
        WHERE w.word %% u.word
        ORDER BY similarity DESC, w.word
        LIMIT 1
    ) AS best
    CROSS JOIN languages AS l
    CROSS JOIN LATERAL unnest(to_tsvector(l.config, best.word)) AS e
    WHERE best.similarity >= %(min_similarity)s
),
terms AS (
    SELECT * FROM stemmed
    UNION ALL
    SELECT * FROM corrected
)
SELECT terms.lexeme, terms.position, terms.factor, coalesce(stats.ndoc, 0),
       totals.chunks, totals.length, totals.generation
FROM terms
CROSS JOIN knowledge_totals AS totals
LEFT JOIN knowledge_term_stats AS stats ON stats.word = terms.lexeme
ORDER BY terms.position, terms.lexeme
"""


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Totals:
    chunks: int
    average_length: float
    generation: int


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
        rows = cursor.fetchall()
        terms = _terms(rows)
        if not terms:
            return []  # no word the documentation uses: nothing relevant, whatever the vectors say
        totals = _Totals(
            chunks=rows[0][4],
            average_length=float(rows[0][5]) / rows[0][4] if rows[0][4] else 1.0,
            generation=rows[0][6],
        )
        # numpy only in the processes that search (docs/architecture.md, Start-up).
        from domain.knowledge import semantic

        close = semantic.nearest(
            cursor=cursor,
            generation=totals.generation,
            query=query,
            limit=max(_SEMANTIC_POOL_SIZE, limit),
        )
        candidates = _candidates(
            cursor, terms, totals=totals, pool=max(_POOL_SIZE, limit), close=close
        )
        if not candidates:
            return []  # terms known, but their chunks changed meanwhile
        ranked = _fuse(candidates)[:limit]
        return _results(cursor, ranked, terms)


def _terms(rows: list[tuple[str, int, float, int, int, float, int]]) -> list[_Term]:
    total = max((row[4] for row in rows), default=0)
    best: dict[str, _Term] = {}
    for lexeme, position, factor, ndoc, *_totals in rows:
        if ndoc == 0:
            continue  # not in the documentation: it can neither find nor rank anything
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


def _candidates(
    cursor: CursorWrapper,
    terms: list[_Term],
    *,
    totals: _Totals,
    pool: int,
    close: list[tuple[int, float]],
) -> list[_Candidate]:
    """The best chunks by BM25 and the semantically closest ones, with the re-ranking signals.

    BM25 from the postings (term frequency, chunk length) and the document frequencies, k1 1.2
    and b 0.75; the semantic candidates get their BM25 score too (0 without a query term).
    """
    pairs = [(a, b) for a, b in itertools.pairwise(terms) if a.lexeme != b.lexeme]
    params: dict[str, object] = {
        "lexemes": [t.lexeme for t in terms],
        "weights": [t.weight for t in terms],
        "pool": pool,
        "close": [chunk_id for chunk_id, _cosine in close],
        "k1": _K1,
        "b": _B,
        "average_length": totals.average_length,
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
    bm25 = """
        sum(q.weight * p.tf * (%(k1)s + 1)
            / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.length / %(average_length)s)))
    """
    sql = f"""
        WITH q AS (
            SELECT * FROM unnest(%(lexemes)s::text[], %(weights)s::float8[]) AS q(lexeme, weight)
        ),
        best AS (
            SELECT p.chunk_id, {bm25} AS base
            FROM q JOIN knowledge_postings AS p ON p.lexeme = q.lexeme
            GROUP BY p.chunk_id
            ORDER BY base DESC, p.chunk_id
            LIMIT %(pool)s
        ),
        close AS (
            SELECT ids.chunk_id, coalesce(
                (SELECT {bm25}
                 FROM q JOIN knowledge_postings AS p
                     ON p.lexeme = q.lexeme AND p.chunk_id = ids.chunk_id),
                0
            ) AS base
            FROM unnest(%(close)s::bigint[]) AS ids(chunk_id)
            WHERE ids.chunk_id NOT IN (SELECT chunk_id FROM best)
        ),
        pool AS (SELECT * FROM best UNION ALL SELECT * FROM close)
        SELECT pool.chunk_id, c.document_id, pool.base,
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
                   to_tsvector(c.language, regexp_replace(c.heading_path, '^.* > ', '')) AS hv,
                   to_tsvector(c.language, d.title) AS tv,
                   to_tsvector(c.language, translate(d.path, '/_-.', '    ')) AS pv
            OFFSET 0
        ) AS fields
    """
    cursor.execute(sql, params)  # type: ignore[arg-type]
    total = sum(t.weight for t in terms)
    pair_total = sum((a.weight + b.weight) / 2 for a, b in pairs) or 1.0
    cosines = dict(close)
    return [
        _Candidate(
            chunk_id=row[0],
            document_id=row[1],
            base=float(row[2]),
            heading=float(row[3]) / total,
            title=float(row[4]) / total,
            path=float(row[5]) / total,
            adjacency=float(row[6]) / pair_total,
            cosine=cosines.get(row[0], -1.0),
        )
        for row in cursor.fetchall()
    ]


def _fuse(candidates: list[_Candidate]) -> list[_Candidate]:
    """Best first: the re-ranked full-text order and the semantic order, by reciprocal rank."""
    candidates = [c for c in candidates if c.base > 0 or c.cosine >= _MIN_SEMANTIC_ONLY_COSINE]
    if not candidates:
        return []
    max_base = max(c.base for c in candidates)
    lexical = sorted(candidates, key=lambda c: (-_lexical_score(c, max_base=max_base), c.chunk_id))
    close = sorted((c for c in candidates if c.cosine > -1), key=lambda c: (-c.cosine, c.chunk_id))
    fused: dict[int, float] = {}
    for rank, candidate in enumerate(lexical, start=1):
        fused[candidate.chunk_id] = 1 / (_RRF_K + rank)
    for rank, candidate in enumerate(close, start=1):
        fused[candidate.chunk_id] += _SEMANTIC_WEIGHT / (_RRF_K + rank)
    per_document = collections.Counter(c.document_id for c in candidates)
    for candidate in candidates:
        fused[candidate.chunk_id] *= 1 + _DOCUMENT_WEIGHT * (
            per_document[candidate.document_id] - 1
        )
    ranked = sorted(
        (dataclasses.replace(c, score=round(fused[c.chunk_id] * 100, 4)) for c in candidates),
        key=lambda c: (-c.score, c.chunk_id),
    )
    shown: collections.Counter[int] = collections.Counter()
    first: list[_Candidate] = []
    later: list[_Candidate] = []
    for candidate in ranked:
        shown[candidate.document_id] += 1
        (first if shown[candidate.document_id] <= _MAX_PER_DOCUMENT else later).append(candidate)
    return first + later


def _lexical_score(candidate: _Candidate, *, max_base: float) -> float:
    """BM25 (scaled to at most 1) plus the reader's signals, each in [0, 1]."""
    return (
        (candidate.base / max_base if max_base > 0 else 0.0)
        + _HEADING_WEIGHT * candidate.heading
        + _TITLE_WEIGHT * candidate.title
        + _PATH_WEIGHT * candidate.path
        + _ADJACENCY_WEIGHT * candidate.adjacency
    )


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
