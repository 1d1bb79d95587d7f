"""BM25 postings for search: an inverted index with scores, kept in PostgreSQL.

``knowledge_postings`` holds one row per (lexeme, chunk) with that chunk's BM25 score for the
lexeme (k1 = 1.2, b = 0.75), read from the chunks' search vectors, with occurrences in headings
(weight A) counting three times as much as body text. Ranking a question is then an index-only
scan and a sum over a few thousand rows, instead of re-reading and ranking every matching
search vector (PostgreSQL's ``ts_rank`` also has no inverse document frequency). It is a
materialized view, refreshed after each ingestion run that changed something.
"""

from django.db import migrations

CREATE_VIEW = """
CREATE MATERIALIZED VIEW knowledge_postings AS
    WITH entries AS (
        SELECT c.id AS chunk_id, e.lexeme,
               cardinality(array_positions(e.weights, 'A')) AS in_headings,
               cardinality(e.positions) AS occurrences
        FROM data_chunk AS c, unnest(c.search_vector) AS e
    ),
    weighted AS (
        SELECT chunk_id, lexeme, 3.0 * in_headings + (occurrences - in_headings) AS tf
        FROM entries
    ),
    lengths AS (SELECT chunk_id, sum(tf) AS length FROM weighted GROUP BY chunk_id),
    collection AS (SELECT count(*) AS chunks, avg(length) AS average_length FROM lengths),
    frequencies AS (SELECT lexeme, count(*) AS df FROM weighted GROUP BY lexeme)
    SELECT w.lexeme, w.chunk_id,
           (ln(1 + (col.chunks - f.df + 0.5) / (f.df + 0.5))
            * w.tf * (1.2 + 1) / (w.tf + 1.2 * (0.25 + 0.75 * l.length / col.average_length))
           )::float4 AS score
    FROM weighted AS w
    JOIN lengths AS l USING (chunk_id)
    JOIN frequencies AS f USING (lexeme)
    CROSS JOIN collection AS col;
CREATE UNIQUE INDEX knowledge_postings_key ON knowledge_postings (lexeme, chunk_id) INCLUDE (score);
"""

DROP_VIEW = "DROP MATERIALIZED VIEW IF EXISTS knowledge_postings;"


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0002_knowledge_search"),
    ]

    operations = [
        migrations.RunSQL(CREATE_VIEW, DROP_VIEW),
    ]
