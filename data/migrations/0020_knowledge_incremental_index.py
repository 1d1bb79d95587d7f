"""Search's term statistics kept up to date by triggers, not rebuilt after each ingest.

The materialized views of migrations 0002 and 0003 had to be recomputed whole after any change,
because BM25's inverse document frequency and average length are corpus-wide: 15-25 s for
7,000 sections, however small the change. Now the triggers on ``data_chunk`` keep, in the
writing transaction itself:

- ``knowledge_postings``: per (lexeme, chunk), the term frequency (heading words count 3x) and
  the chunk's length. BM25 is computed at query time from these, the document frequencies and
  the totals, so a change touches only its own chunks' rows.
- ``knowledge_term_stats``: per stemmed lexeme, the number of chunks containing it.
- ``knowledge_word_stats``: the unstemmed words, with a trigram index (typos).
- ``knowledge_totals``: one row, the number of chunks and their summed length, and a
  generation number that changes with every change (search's vector cache reads it).

Every trigger locks the totals row first, so writers take their turns there, in one order,
before touching the shared statistics rows: no deadlock, and counts never race. ``TRUNCATE``
(test database flushes) empties everything. Chunks also get an ``embedding`` (256 float32,
little-endian bytes), computed at ingest.
"""

import importlib

from django.db import migrations, models

_WORDS = """
    SELECT c.id AS chunk_id, w.lexeme AS word
    FROM {table} AS c, unnest(to_tsvector('simple', c.heading_path || ' ' || c.text)) AS w
    WHERE length(w.lexeme) BETWEEN 3 AND 40 AND w.lexeme !~ '[0-9]'
"""

_ENTRIES = """
    SELECT c.id AS chunk_id, e.lexeme,
           (3.0 * cardinality(array_positions(e.weights, 'A'))
            + coalesce(cardinality(e.positions), 1)
            - cardinality(array_positions(e.weights, 'A')))::float4 AS tf
    FROM {table} AS c, unnest(c.search_vector) AS e
"""

CREATE = f"""
DROP MATERIALIZED VIEW IF EXISTS knowledge_postings;
DROP MATERIALIZED VIEW IF EXISTS knowledge_word_stats;
DROP MATERIALIZED VIEW IF EXISTS knowledge_term_stats;

CREATE TABLE knowledge_postings (
    lexeme text NOT NULL,
    chunk_id bigint NOT NULL,
    tf float4 NOT NULL,
    length float4 NOT NULL,
    PRIMARY KEY (lexeme, chunk_id) INCLUDE (tf, length)
);

CREATE TABLE knowledge_term_stats (word text PRIMARY KEY, ndoc integer NOT NULL);
-- Words are only added: counting them would cost a trigram index update per word per change.
-- A word no chunk uses any more is harmless: a typo corrected to it finds no stem (ndoc 0).
CREATE TABLE knowledge_word_stats (word text PRIMARY KEY);
CREATE INDEX knowledge_word_stats_trgm ON knowledge_word_stats USING gin (word gin_trgm_ops);

CREATE TABLE knowledge_totals (
    id integer PRIMARY KEY CHECK (id = 1),
    chunks bigint NOT NULL,
    length float8 NOT NULL,
    generation bigint NOT NULL
);

CREATE FUNCTION knowledge_index_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The totals row first: writers queue here before touching shared statistics rows.
    UPDATE knowledge_totals SET generation = generation + 1 WHERE id = 1;
    WITH entries AS MATERIALIZED ({_ENTRIES.format(table="new_chunks")}),
    postings AS (
        INSERT INTO knowledge_postings (lexeme, chunk_id, tf, length)
        SELECT lexeme, chunk_id, tf, sum(tf) OVER (PARTITION BY chunk_id) FROM entries
    ),
    terms AS (
        INSERT INTO knowledge_term_stats AS s (word, ndoc)
        SELECT lexeme, count(*) FROM entries GROUP BY lexeme ORDER BY lexeme
        ON CONFLICT (word) DO UPDATE SET ndoc = s.ndoc + excluded.ndoc
    ),
    words AS (
        INSERT INTO knowledge_word_stats (word)
        SELECT DISTINCT word FROM ({_WORDS.format(table="new_chunks")}) AS w
        WHERE NOT EXISTS (SELECT 1 FROM knowledge_word_stats AS s WHERE s.word = w.word)
        ORDER BY word
        ON CONFLICT (word) DO NOTHING
    )
    UPDATE knowledge_totals SET
        chunks = chunks + (SELECT count(*) FROM new_chunks),
        length = length + (SELECT coalesce(sum(tf), 0) FROM entries)
    WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE FUNCTION knowledge_index_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE knowledge_totals SET generation = generation + 1 WHERE id = 1;
    WITH gone AS (
        -- By the primary key: the old rows' lexemes are in their search vectors.
        DELETE FROM knowledge_postings AS p
        USING (SELECT o.id, e.lexeme FROM old_chunks AS o, unnest(o.search_vector) AS e) AS o
        WHERE p.lexeme = o.lexeme AND p.chunk_id = o.id
        RETURNING p.lexeme, p.tf
    ),
    counted AS (
        SELECT lexeme, count(*) AS n, sum(tf) AS length FROM gone GROUP BY lexeme
    ),
    terms AS (
        UPDATE knowledge_term_stats AS s SET ndoc = s.ndoc - c.n
        FROM counted AS c WHERE s.word = c.lexeme
    )
    UPDATE knowledge_totals SET
        chunks = greatest(chunks - (SELECT count(*) FROM old_chunks), 0),
        length = greatest(length - (SELECT coalesce(sum(length), 0) FROM counted), 0)
    WHERE id = 1;
    DELETE FROM knowledge_term_stats AS s
    USING (SELECT DISTINCT e.lexeme FROM old_chunks AS o, unnest(o.search_vector) AS e) AS o
    WHERE s.word = o.lexeme AND s.ndoc <= 0;
    RETURN NULL;
END
$$;

CREATE FUNCTION knowledge_index_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE knowledge_totals SET chunks = 0, length = 0, generation = generation + 1 WHERE id = 1;
    TRUNCATE knowledge_postings, knowledge_term_stats, knowledge_word_stats;
    RETURN NULL;
END
$$;

CREATE TRIGGER knowledge_index_insert AFTER INSERT ON data_chunk
    REFERENCING NEW TABLE AS new_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_index_add();
CREATE TRIGGER knowledge_index_delete AFTER DELETE ON data_chunk
    REFERENCING OLD TABLE AS old_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_index_remove();
-- An update is a removal of the old rows, then an addition of the new ones (triggers of one
-- event fire in the order of their names).
CREATE TRIGGER knowledge_index_update_1_remove AFTER UPDATE ON data_chunk
    REFERENCING OLD TABLE AS old_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_index_remove();
CREATE TRIGGER knowledge_index_update_2_add AFTER UPDATE ON data_chunk
    REFERENCING NEW TABLE AS new_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_index_add();
CREATE TRIGGER knowledge_index_truncate AFTER TRUNCATE ON data_chunk
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_index_clear();

-- The chunks already stored.
INSERT INTO knowledge_totals (id, chunks, length, generation) VALUES (1, 0, 0, 0);
INSERT INTO knowledge_postings (lexeme, chunk_id, tf, length)
    SELECT e.lexeme, e.chunk_id, e.tf, sum(e.tf) OVER (PARTITION BY e.chunk_id)
    FROM ({_ENTRIES.format(table="data_chunk")}) AS e;
INSERT INTO knowledge_term_stats (word, ndoc)
    SELECT lexeme, count(*) FROM knowledge_postings GROUP BY lexeme;
INSERT INTO knowledge_word_stats (word)
    SELECT DISTINCT word FROM ({_WORDS.format(table="data_chunk")}) AS w;
UPDATE knowledge_totals SET
    chunks = (SELECT count(*) FROM data_chunk),
    length = (SELECT coalesce(sum(tf), 0) FROM knowledge_postings);
"""

_DROP = """
DROP TRIGGER IF EXISTS knowledge_index_insert ON data_chunk;
DROP TRIGGER IF EXISTS knowledge_index_delete ON data_chunk;
DROP TRIGGER IF EXISTS knowledge_index_update_1_remove ON data_chunk;
DROP TRIGGER IF EXISTS knowledge_index_update_2_add ON data_chunk;
DROP TRIGGER IF EXISTS knowledge_index_truncate ON data_chunk;
DROP FUNCTION IF EXISTS knowledge_index_add();
DROP FUNCTION IF EXISTS knowledge_index_remove();
DROP FUNCTION IF EXISTS knowledge_index_clear();
DROP TABLE IF EXISTS knowledge_postings, knowledge_term_stats, knowledge_word_stats,
    knowledge_totals;
"""
# Back to the materialized views of migrations 0002 and 0003, built from the chunks as they are.
DROP = (
    _DROP
    + importlib.import_module("data.migrations.0002_knowledge_search").CREATE_VIEWS
    + importlib.import_module("data.migrations.0003_knowledge_postings").CREATE_VIEW
)


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0019_documentation_source_kinds_and_sync"),
    ]

    operations = [
        migrations.RunSQL(CREATE, DROP),
        # Search reads the postings; the chunks' own full-text index only slowed their writes.
        migrations.RemoveIndex(model_name="chunk", name="chunk_search_vector_gin"),
        migrations.RemoveField(
            model_name="documentationsource",
            name="index_refresh_requested_at",
        ),
        migrations.AddField(
            model_name="chunk",
            name="embedding",
            field=models.BinaryField(
                editable=False,
                null=True,
                help_text="The section's semantic vector (256 float32, little-endian).",
            ),
        ),
    ]
