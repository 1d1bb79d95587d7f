"""Each documentation source has its own text search language (PostgreSQL configuration).

Chunks carry their source's configuration as a ``regconfig`` column, which their generated
search vector is built with (a cast from text would not be immutable, so the column has that
type itself). Existing sources and chunks keep ``english``, so every search vector stays the
same; the triggers of migration 0020 keep the term statistics in step when a source's
language changes (its chunks are updated, and their vectors with them).
"""

import django.contrib.postgres.search
from django.db import migrations, models

import data.models.knowledge


class Migration(migrations.Migration):
    dependencies = [
        ("data", "0020_knowledge_incremental_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="chunk",
            name="language",
            field=data.models.knowledge.TextSearchConfigField(
                default="english",
                editable=False,
                help_text=(
                    "Text search configuration of its source, which its search vector is built "
                    "with."
                ),
                max_length=63,
            ),
        ),
        migrations.AddField(
            model_name="documentationsource",
            name="language",
            field=models.CharField(
                default="english",
                help_text=(
                    "PostgreSQL text search configuration its documents are indexed and searched "
                    "with (english, french, german, simple, ...)."
                ),
                max_length=63,
            ),
        ),
        # A generated column cannot be altered: dropped and added again (the table is rewritten
        # once; no trigger fires, and every vector comes out as it was, in english).
        migrations.RemoveField(model_name="chunk", name="search_vector"),
        migrations.AddField(
            model_name="chunk",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.contrib.postgres.search.CombinedSearchVector(
                    django.contrib.postgres.search.SearchVector(
                        "heading_path", config=models.F("language"), weight="A"
                    ),
                    "||",
                    django.contrib.postgres.search.SearchVector(
                        "text", config=models.F("language"), weight="B"
                    ),
                    django.contrib.postgres.search.SearchConfig(models.F("language")),
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
    ]
