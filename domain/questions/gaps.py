"""Coverage gaps: what people asked that the documentation did not answer well.

A gap question was answered "not covered" or got a 👎. They are grouped into topics by the
terms search already uses (PostgreSQL's ``english`` text search configuration, the one the
chunks' ``search_vector`` is built with): a topic is a stemmed word, with the gap questions
that use it. A question with several frequent words appears under each of them.
"""

import dataclasses
import datetime as dt
from collections.abc import Iterator

from django.db import connection

from data import models

EXAMPLES_PER_TOPIC = 3


@dataclasses.dataclass(frozen=True, kw_only=True)
class Example:
    question_id: int
    text: str
    status: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Topic:
    term: str  # the stemmed word, as search knows it
    count: int  # gap questions using it
    examples: tuple[Example, ...]  # the latest few


_TOPICS_SQL = """
WITH gaps AS (
    SELECT q.id, q.asked_at, to_tsvector('english', q.text) AS terms
    FROM {question} q
    WHERE q.asked_at >= %(start)s AND q.asked_at < %(end)s
      AND (q.status = %(not_covered)s OR EXISTS (
          SELECT 1 FROM {feedback} f JOIN {answer} a ON a.id = f.answer_id
          WHERE a.question_id = q.id AND f.vote = %(down)s))
)
SELECT term, COUNT(*) AS n, (ARRAY_AGG(id ORDER BY asked_at DESC, id DESC))[1:%(examples)s]
FROM gaps, UNNEST(tsvector_to_array(terms)) AS term
WHERE LENGTH(term) > 2 AND term !~ '^[0-9]+$'
GROUP BY term
ORDER BY n DESC, term
LIMIT %(limit)s
"""


def topics(*, start: dt.datetime, end: dt.datetime, limit: int = 20) -> list[Topic]:
    """The most common topics among the gap questions asked in [start, end), two queries."""
    sql = _TOPICS_SQL.format(
        question=models.Question._meta.db_table,
        feedback=models.Feedback._meta.db_table,
        answer=models.Answer._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "start": start,
                "end": end,
                "not_covered": models.Question.Status.NOT_COVERED,
                "down": models.Feedback.Vote.DOWN,
                "examples": EXAMPLES_PER_TOPIC,
                "limit": limit,
            },
        )
        rows = cursor.fetchall()
    ids = {pk for _term, _count, examples in rows for pk in examples}
    questions = {
        row["pk"]: row
        for row in models.Question.objects.filter(pk__in=ids).values("pk", "text", "status")
    }
    return [
        Topic(
            term=term,
            count=count,
            examples=tuple(
                Example(question_id=pk, text=questions[pk]["text"], status=questions[pk]["status"])
                for pk in examples
                if pk in questions
            ),
        )
        for term, count, examples in rows
    ]


def csv_rows(*, topics: list[Topic], closest: dict[str, list[str]]) -> Iterator[list[str]]:
    """The report as spreadsheet rows, header first: one row per example question."""
    yield ["topic", "gap questions", "question id", "question", "status", "closest documents"]
    for topic in topics:
        for example in topic.examples:
            yield [
                topic.term,
                str(topic.count),
                str(example.question_id),
                example.text,
                example.status,
                "\n".join(closest.get(topic.term, [])),
            ]
