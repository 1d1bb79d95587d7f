"""Search's candidates: the best sections by BM25, the closest in meaning, and the reviewed
answers that match, each with the signals the ranking uses.

BM25 is computed at query time from the postings (term frequency, with heading words counting
3x, and chunk length) and the document frequencies. Every candidate also gets the reader's
signals: the query's terms in the section's own heading, the document's title and path, and
query words side by side.
"""

import dataclasses
import itertools

from django.db.backends.utils import CursorWrapper

from domain.knowledge import reviewed
from domain.knowledge.search_terms import Term, Totals, quote

# BM25's parameters (k1 in the usual 1.2-2 range: a term repeated in a section keeps counting
# a little longer, which suits sections of a few paragraphs).
_K1 = 1.5
_B = 0.75
# Reviewed answers that match some term join the candidates, the best ones by BM25, however
# many documentation sections outrank them (the ranking decides whether they come first).
_REVIEWED_POOL_SIZE = 3


@dataclasses.dataclass(frozen=True, kw_only=True)
class Candidate:
    chunk_id: int
    document_id: int
    reviewed: bool  # a reviewed answer (``domain/knowledge/reviewed.py``)
    base: float  # BM25
    heading: float  # share of the query's weight in the section's own heading
    title: float  # ... in the document's title
    path: float  # ... in the document's path
    adjacency: float  # share of the query's word pairs found side by side
    cosine: float = -1.0  # closeness in meaning; -1: no vector yet
    score: float = 0.0


def candidates(
    cursor: CursorWrapper, terms: list[Term], *, totals: Totals, pool: int, close: list[int]
) -> list[Candidate]:
    """The ``pool`` best chunks by BM25, the ``close`` ones and the best matching reviewed
    answers, with the re-ranking signals (BM25 is 0 for a close chunk without a query term)."""
    pairs = [(a, b) for a, b in itertools.pairwise(terms) if a.lexeme != b.lexeme]
    phrase_weights = [(a.weight + b.weight) / 2 for a, b in pairs]
    params: dict[str, object] = {
        "lexemes": [t.lexeme for t in terms],
        "weights": [t.weight for t in terms],
        "pool": pool,
        "close": close,
        "k1": _K1,
        "b": _B,
        "average_length": totals.average_length,
        "reviewed_source": reviewed.SOURCE,
        "reviewed_pool": _REVIEWED_POOL_SIZE,
        # Each pair of consecutive query words, at their distance in the query.
        "phrases": [
            f"{quote(a.lexeme)} <{max(1, b.position - a.position)}> {quote(b.lexeme)}"
            for a, b in pairs
        ],
        "phrase_weights": phrase_weights,
    }
    cursor.execute(_SQL, params)  # type: ignore[arg-type]
    weights = {t.lexeme: t.weight for t in terms}
    total = sum(weights.values())
    pair_total = sum(phrase_weights) or 1.0

    def share(lexemes: list[str]) -> float:
        return sum(weights.get(lexeme, 0.0) for lexeme in lexemes) / total

    return [
        Candidate(
            chunk_id=chunk_id,
            document_id=document_id,
            reviewed=is_reviewed,
            base=float(base),
            heading=share(heading),
            title=share(title),
            path=share(path),
            adjacency=float(adjacency) / pair_total,
        )
        for chunk_id, document_id, is_reviewed, base, heading, title, path, adjacency in (
            cursor.fetchall()
        )
    ]


_BM25 = """
    sum(q.weight * p.tf * (%(k1)s + 1)
        / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.length / %(average_length)s)))
"""


_SQL = f"""
WITH q AS (
    SELECT * FROM unnest(%(lexemes)s::text[], %(weights)s::float8[]) AS q(lexeme, weight)
),
best AS (
    SELECT p.chunk_id, {_BM25} AS base
    FROM q JOIN knowledge_postings AS p ON p.lexeme = q.lexeme
    GROUP BY p.chunk_id
    ORDER BY base DESC, p.chunk_id
    LIMIT %(pool)s
),
answers AS (
    -- Reviewed answers are few: their postings are looked up by the primary key.
    SELECT p.chunk_id, {_BM25} AS base
    FROM data_documentationsource AS s
    JOIN data_document AS d ON d.source_id = s.id
    JOIN data_chunk AS c ON c.document_id = d.id
    JOIN knowledge_postings AS p ON p.chunk_id = c.id
    JOIN q ON q.lexeme = p.lexeme
    WHERE s.name = %(reviewed_source)s
      AND c.id NOT IN (SELECT chunk_id FROM best)
    GROUP BY p.chunk_id
    ORDER BY base DESC, p.chunk_id
    LIMIT %(reviewed_pool)s
),
close AS (
    SELECT ids.chunk_id, coalesce(
        (SELECT {_BM25}
         FROM q JOIN knowledge_postings AS p
             ON p.lexeme = q.lexeme AND p.chunk_id = ids.chunk_id),
        0
    ) AS base
    FROM unnest(%(close)s::bigint[]) AS ids(chunk_id)
    WHERE ids.chunk_id NOT IN (SELECT chunk_id FROM best)
      AND ids.chunk_id NOT IN (SELECT chunk_id FROM answers)
),
pool AS (
    SELECT * FROM best UNION ALL SELECT * FROM answers UNION ALL SELECT * FROM close
)
SELECT pool.chunk_id, c.document_id, s.name = %(reviewed_source)s, pool.base,
       -- The words of the section's own heading, the document's title and its path.
       tsvector_to_array(
           to_tsvector(c.language, regexp_replace(c.heading_path, '^.* > ', ''))
       ),
       tsvector_to_array(to_tsvector(c.language, d.title)),
       tsvector_to_array(to_tsvector(c.language, translate(d.path, '/_-.', '    '))),
       (SELECT coalesce(sum(x.weight), 0)
        FROM unnest(%(phrases)s::tsquery[], %(phrase_weights)s::float8[]) AS x(phrase, weight)
        WHERE sv @@ x.phrase)
FROM pool
JOIN data_chunk AS c ON c.id = pool.chunk_id
JOIN data_document AS d ON d.id = c.document_id
JOIN data_documentationsource AS s ON s.id = d.source_id
CROSS JOIN LATERAL (
    -- Concatenating detoasts the search vector once per row, not once per phrase.
    SELECT c.search_vector || ''::tsvector AS sv OFFSET 0
) AS fields
"""
