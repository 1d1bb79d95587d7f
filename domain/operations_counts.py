"""Counts for monitoring, read from the database at scrape time (``/metrics``).

Read from PostgreSQL rather than counted in each process: every web process and worker sees the
same totals, and a restarted process loses nothing.
"""

from django.db import connection
from django.db.models import Count

from data import models


def questions_by_status() -> dict[str, int]:
    rows = models.Question.objects.values("status").annotate(n=Count("id")).order_by()
    return {str(row["status"]): int(row["n"]) for row in rows}


def jobs_by_task_and_status() -> dict[tuple[str, str], int]:
    """Jobs waiting (``todo``) and running (``doing``), by task."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT task_name, status::text, count(*) FROM procrastinate_jobs"
            " WHERE status IN ('todo', 'doing') GROUP BY task_name, status"
        )
        return {(str(task), str(status)): int(n) for task, status, n in cursor.fetchall()}


def documentation_sources() -> list[str]:
    """Names of the sources in the knowledge base, the built-in guide first if present."""
    return list(models.DocumentationSource.objects.order_by("name").values_list("name", flat=True))
