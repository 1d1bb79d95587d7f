"""The question's terms: stemmed, weighted by rarity, with small typos corrected.

Each query term counts by how rare it is in the documentation (BM25's inverse document
frequency, from term statistics that triggers keep up to date as chunks change, migration
``0020_knowledge_incremental_index``). A word the documentation never uses is replaced by the
closest word it does use (pg_trgm over ``knowledge_word_stats``), so small typos still find
their section.
"""

import dataclasses
import math

from django.db.backends.utils import CursorWrapper

# Longest questions keep only their rarest terms: more add noise and cost, not recall.
_MAX_TERMS = 16
# Words the documentation never uses that are looked up for a typo correction, the first ones
# of the query: each costs a trigram search, and a long paste can hold hundreds of them.
_MAX_CORRECTIONS = 8
# Least trigram similarity for replacing an unknown word (e.g. "mangers" -> "managers").
_MIN_TYPO_SIMILARITY = 0.45


@dataclasses.dataclass(frozen=True, kw_only=True)
class Term:
    lexeme: str
    position: int
    factor: float  # 1, or the similarity of a typo correction to the word it replaces
    weight: float  # inverse document frequency times factor


@dataclasses.dataclass(frozen=True, kw_only=True)
class Totals:
    chunks: int
    average_length: float
    generation: int  # changes with every change to the chunks (the vector cache's key)


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


def analyse(cursor: CursorWrapper, *, query: str) -> tuple[list[Term], Totals | None]:
    """The query's terms the documentation uses, in query order, and the index's totals."""
    cursor.execute(
        _ANALYSE_SQL,
        {
            "query": query,
            "min_similarity": _MIN_TYPO_SIMILARITY,
            "max_corrections": _MAX_CORRECTIONS,
        },
    )
    rows = cursor.fetchall()
    if not rows:
        return [], None
    chunks, length, generation = rows[0][4], float(rows[0][5]), rows[0][6]
    totals = Totals(
        chunks=chunks, average_length=length / chunks if chunks else 1.0, generation=generation
    )
    return _terms(rows, total=chunks), totals


def _terms(rows: list[tuple[str, int, float, int, int, float, int]], *, total: int) -> list[Term]:
    best: dict[str, Term] = {}
    for lexeme, position, factor, ndoc, *_totals in rows:
        if ndoc == 0:
            continue  # not in the documentation: it can neither find nor rank anything
        idf = math.log(1 + (total - ndoc + 0.5) / (ndoc + 0.5))
        term = Term(lexeme=lexeme, position=position, factor=factor, weight=idf * factor)
        if lexeme not in best or best[lexeme].weight < term.weight:
            best[lexeme] = term
    rarest = sorted(best.values(), key=lambda t: (-t.weight, t.lexeme))[:_MAX_TERMS]
    return sorted(rarest, key=lambda t: (t.position, t.lexeme))


def quote(lexeme: str) -> str:
    """A lexeme as tsquery input, taken as it is (it is already stemmed)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def or_query(terms: list[Term]) -> str:
    return " | ".join(quote(t.lexeme) for t in terms)
