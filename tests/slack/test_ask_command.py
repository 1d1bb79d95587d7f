"""``manage.py ask``: the same answer use case in the terminal."""

from io import StringIO

import pytest
from django.core.management import call_command

from data import models
from tests.slack.conftest import store_knowledge

pytestmark = pytest.mark.django_db(transaction=True)


def test_ask_prints_the_status_on_stderr_and_the_answer_with_sources_on_stdout():
    store_knowledge()
    out, err = StringIO(), StringIO()

    call_command("ask", "how do I roll back a deploy?", stdout=out, stderr=err)

    assert "Finding a response…" in err.getvalue()
    assert "make rollback" in out.getvalue()
    assert "Sources:" in out.getvalue()
    assert "https://docs.example.com/howto/deploying.md#rollbacks" in out.getvalue()
    question = models.Question.objects.get()
    assert question.via == models.Question.Channel.TERMINAL
    assert question.status == models.Question.Status.ANSWERED


def test_ask_says_plainly_when_the_docs_do_not_cover_it():
    out = StringIO()

    call_command("ask", "what is the wifi password on mars?", stdout=out, stderr=StringIO())

    assert "couldn't find this in the documentation" in out.getvalue()
    assert "Sources:" not in out.getvalue()
