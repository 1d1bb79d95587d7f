"""Search support: pg_trgm and two lexicons of the indexed chunks.

``knowledge_term_stats`` holds each stemmed lexeme of the chunks' search vectors with the number
of chunks containing it: PostgreSQL's ranking has no inverse document frequency, and search
weights query terms by it. ``knowledge_word_stats`` holds the unstemmed words, with a trigram
index, so a misspelt query word can be replaced by the closest word the documentation uses.
Both are materialized views, refreshed after each ingestion run that changed something.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

CREATE_VIEWS = """
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
"""


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunSQL(CREATE_VIEWS, DROP_VIEWS),
    ]
