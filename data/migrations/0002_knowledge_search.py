"""Search support: BM25 postings, two lexicons of the indexed chunks, and pg_trgm.

``knowledge_postings`` is an inverted index with scores: one row per (lexeme, chunk) holding
that chunk's BM25 score for the lexeme, read from the chunks' search vectors, with occurrences
in headings (weight A) counting three times as much as body text. Ranking a question is then
an index-only scan and a sum over a few thousand rows, instead of re-reading and ranking every
matching search vector (PostgreSQL's ``ts_rank`` also has no inverse document frequency).
``knowledge_term_stats`` holds each stemmed lexeme of the chunks' search vectors with the number
of chunks containing it: PostgreSQL's ranking has no inverse document frequency, and search
weights query terms by it. ``knowledge_word_stats`` holds the unstemmed words, with a trigram
index, so a misspelt query word can be replaced by the closest word the documentation uses.
Both are materialized views, refreshed after each ingestion run that changed something.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

CREATE_VIEWS = """
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

CREATE MATERIALIZED VIEW knowledge_term_stats AS
    SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM data_chunk');
CREATE UNIQUE INDEX knowledge_term_stats_word ON knowledge_term_stats (word);

CREATE MATERIALIZED VIEW knowledge_word_stats AS
    SELECT word, ndoc FROM ts_stat(
        'SELECT to_tsvector(''simple'', heading_path || '' '' || text) FROM data_chunk'
    )
    WHERE length(word) BETWEEN 3 AND 40 AND word !~ '[0-9]';
CREATE UNIQUE INDEX knowledge_word_stats_word ON knowledge_word_stats (word);
CREATE INDEX knowledge_word_stats_trgm ON knowledge_word_stats USING gin (word gin_trgm_ops);
"""

DROP_VIEWS = """
DROP MATERIALIZED VIEW IF EXISTS knowledge_word_stats;
DROP MATERIALIZED VIEW IF EXISTS knowledge_term_stats;
DROP MATERIALIZED VIEW IF EXISTS knowledge_postings;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunSQL(CREATE_VIEWS, DROP_VIEWS),
    ]
