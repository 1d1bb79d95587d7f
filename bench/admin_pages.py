"""How fast the review admin is on a year of questions.

    uv run python bench/admin_pages.py [--per-day 200] [--runs 5]

Starts a throwaway PostgreSQL cluster, fills it with a year of questions (answers, three
sources each, two agent runs, votes on a third of the answers), then requests the admin pages
as a reviewer through Django's test client and prints the median time and the number of SQL
queries per page. It also times the changelist's own query with vote counts computed two ways
(a join with COUNT ... GROUP BY, and the correlated subqueries the admin uses).
"""

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CATEGORIES = "ARRAY['HOW_TO','TROUBLESHOOTING','CONCEPT','POLICY','ACCESS','OTHER']"
TOPICS = (
    "ARRAY['reset my password','get a VPN certificate','book a meeting room',"
    "'expense a train ticket','request a new laptop','deploy to staging']"
)


def fill(*, per_day: int) -> int:
    from django.db import connection

    total = per_day * 365
    statements = [
        f"""
        INSERT INTO data_question (via, team_id, channel_id, thread_ts, message_ts, asker_id,
            asker_name, text, title, category, status, error, asked_at, answered_at,
            latency_ms, reviewed, reviewed_at, review_note, private, channel_name)
        SELECT 'SLACK', 'T1', 'C' || (g % 40), g || '.000100', g || '.000100', 'U' || (g % 900),
            'Person ' || (g % 900),
            'How do I ' || ({TOPICS})[1 + g % 6] || '? (' || md5(g::text) || ')',
            '', ({CATEGORIES})[1 + g % 6],
            CASE WHEN g % 20 = 0 THEN 'FAILED' ELSE 'ANSWERED' END,
            CASE WHEN g % 20 = 0 THEN 'model timed out' ELSE '' END,
            now() - (g * interval '365 days' / {total}),
            now() - (g * interval '365 days' / {total}) + interval '3 seconds',
            500 + (g * 37) % 6000, g % 10 = 0,
            CASE WHEN g % 10 = 0
                THEN now() - (g * interval '365 days' / {total}) + interval '1 day' END,
            '', false, '#channel-' || (g % 40)
        FROM generate_series(1, {total}) AS g
        """,
        """
        INSERT INTO data_answer (question_id, text, covered, model, created_at,
            slack_channel_id, slack_message_ts, slack_continuation_ts, delivered_at)
        SELECT q.id, 'Open the handbook page and follow **the steps**. ' || repeat('Words. ', 60),
            q.id % 7 <> 0, 'offline', q.answered_at + (n - 1) * interval '1 day', q.channel_id,
            q.id || '.000200', '{}', q.answered_at
        FROM data_question q
        CROSS JOIN generate_series(1, 2) AS n
        WHERE q.status = 'ANSWERED' AND (n = 1 OR q.id % 20 = 1)
        """,
        """
        INSERT INTO data_citation (answer_id, position, title, heading, url)
        SELECT a.id, p, 'Handbook page ' || (a.id % 300), 'Section ' || p,
            'https://docs.example.com/page-' || (a.id % 300)
        FROM data_answer a CROSS JOIN generate_series(1, 3) AS p
        """,
        """
        INSERT INTO data_agentrun (question_id, agent, model, input_tokens, output_tokens,
            latency_ms, outcome, error, started_at)
        SELECT q.id, CASE WHEN n = 1 THEN 'classifier' ELSE 'answer' END, 'offline', 900, 150,
            q.latency_ms / 2, CASE WHEN q.status = 'FAILED' THEN 'ERROR' ELSE 'OK' END,
            CASE WHEN q.status = 'FAILED' THEN 'model timed out' ELSE '' END,
            q.asked_at
        FROM data_question q CROSS JOIN generate_series(1, 2) AS n
        """,
        """
        INSERT INTO data_feedback (answer_id, slack_user_id, vote, reason, comment, created_at,
            updated_at)
        SELECT a.id, 'U' || (a.id % 900), CASE WHEN a.id % 9 = 0 THEN 'DOWN' ELSE 'UP' END, '', '',
            a.created_at + interval '1 minute', a.created_at + interval '1 minute'
        FROM data_answer a WHERE a.id % 3 = 0
        """,
        "ANALYZE",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return total


def timed(
    call: Callable[[], object], *, runs: int, show_queries: bool = False
) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    durations = []
    queries = 0
    call()  # warm up caches and the template loader
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            call()
            durations.append((time.perf_counter() - started) * 1000)
        queries = len(captured.captured_queries)
    if show_queries:
        for query in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]:
            print(f"    {float(query['time']) * 1000:.0f} ms  {query['sql'][:400]}")
    return statistics.median(durations), queries


def run(*, per_day: int, runs: int, show_queries: bool) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    total = fill(per_day=per_day)
    fill_seconds = time.perf_counter() - started

    from django.contrib.auth.models import Group, User
    from django.db.models import Count, Q
    from django.test import Client
    from django.urls import reverse

    from data import models
    from domain.questions import review

    reviewer = User.objects.create_user("reviewer", password="unused-password", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Q&A reviewers"))
    client = Client()
    client.force_login(reviewer)

    changelist = reverse("admin:data_question_changelist")
    busy = (
        models.Question.objects.annotate(answer_count=Count("answers"))
        .filter(answer_count=2)
        .order_by("pk")
        .first()
    )
    assert busy is not None
    first_500 = list(
        models.Question.objects.order_by("-asked_at", "-pk").values_list("pk", flat=True)[:500]
    )

    def get(url: str, **params: str) -> Callable[[], object]:
        def call() -> object:
            response = client.get(url, params)
            assert response.status_code == 200, response.status_code
            return response

        return call

    def export() -> object:
        response = client.post(changelist, {"action": "export_csv", "_selected_action": first_500})
        assert response.status_code == 200
        return response

    def page_with_join() -> object:
        return list(
            models.Question.objects.annotate(
                up_votes=Count("answers__feedback", filter=Q(answers__feedback__vote="UP")),
                down_votes=Count("answers__feedback", filter=Q(answers__feedback__vote="DOWN")),
            ).order_by("-asked_at", "-pk")[:50]
        )

    def page_with_subqueries() -> object:
        return list(
            models.Question.objects.annotate(
                up_votes=review.vote_count(vote="UP"),
                down_votes=review.vote_count(vote="DOWN"),
            ).order_by("-asked_at", "-pk")[:50]
        )

    def down_voted_by_exists() -> object:
        return models.Question.objects.filter(review.has_vote(vote="DOWN")).count()

    def down_voted_by_in() -> object:
        voted = models.Feedback.objects.filter(vote="DOWN").values("answer__question_id")
        return models.Question.objects.filter(pk__in=voted).count()

    cases: list[tuple[str, Callable[[], object]]] = [
        ("admin index: overview and dashboard, 30 days", get("/admin/")),
        ("admin index: overview and dashboard, 90 days", get("/admin/", days="90")),
        ("questions, first page", get(changelist)),
        ("questions with a 👎", get(changelist, feedback="down")),
        ("questions without feedback", get(changelist, feedback="none")),
        ("questions, status FAILED, category POLICY", get(changelist, status__exact="FAILED")),
        ("questions, search 'vpn certificate'", get(changelist, q="vpn certificate")),
        ("questions, ordered by 👎", get(changelist, o="9")),
        ("question page (2 answers, 6 sources, runs)", get(f"{changelist}{busy.pk}/change/")),
        ("CSV export of 500 questions", export),
        ("query only: votes by JOIN + GROUP BY", page_with_join),
        ("query only: votes by correlated subqueries", page_with_subqueries),
        ("query only: count 👎 questions by EXISTS", down_voted_by_exists),
        ("query only: count 👎 questions by IN (subquery)", down_voted_by_in),
    ]
    print(
        f"{total:,} questions, {models.Answer.objects.count():,} answers, "
        f"{models.Citation.objects.count():,} citations, "
        f"{models.AgentRun.objects.count():,} agent runs, "
        f"{models.Feedback.objects.count():,} votes (filled in {fill_seconds:.0f} s)"
    )
    print()
    print("| page | median ms | SQL queries |")
    print("| --- | ---: | ---: |")
    for name, call in cases:
        median, queries = timed(call, runs=runs, show_queries=show_queries)
        print(f"| {name} | {median:.0f} | {queries} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--per-day", type=int, default=274, help="questions per day (274: 100,000 a year)"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed requests per page")
    parser.add_argument("--queries", action="store_true", help="print each page's slowest SQL")
    arguments = parser.parse_args()

    os.environ["DJANGO_SETTINGS_MODULE"] = "chatbot.settings"
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["LOG_LEVEL"] = "WARNING"

    from chatbot import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="chatbot-bench-admin-"))
    try:
        with embedded_postgres.running(
            data_dir=root / "data", socket_dir=root / "run", durable=False
        ) as cluster:
            cluster.create_database(name="bench_admin")
            os.environ["DATABASE_URL"] = cluster.url(dbname="bench_admin")
            run(per_day=arguments.per_day, runs=arguments.runs, show_queries=arguments.queries)
            from django.db import connections

            for connection in connections.all():
                connection.close()
                if getattr(connection, "pool", None) is not None:
                    connection.close_pool()  # type: ignore[attr-defined]
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
