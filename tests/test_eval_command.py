"""``manage.py eval``: a question set through the answer pipeline, scored, stored, compared."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from application.evals import running
from chatbot import launcher
from data import models
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

CASES = [
    {
        "id": "rollback",
        "question": "How do I roll back a deploy?",
        "gold": ["deploy.md"],
        "facts": ["deploy rollback"],
    },
    {
        "id": "hotel",
        "question": "How much of a hotel night is refunded on business travel?",
        "gold": ["Expenses"],
        "facts": ["re:150 euros?"],
    },
    {
        "id": "wifi",
        "question": "What is the wifi password in the Lisbon office?",
        "not_covered": True,
    },
]


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("eval", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def handbook(tmp_path):
    docs = tmp_path / "handbook"
    docs.mkdir()
    (docs / "deploy.md").write_text(
        "# Deploying\n\n## Rolling back\n\nTo roll back a deploy, run `deploy rollback` with "
        "the release number. A rollback takes about two minutes.\n"
    )
    (docs / "expenses.md").write_text(
        "# Expenses\n\n## Hotels on business travel\n\nA hotel night on business travel is "
        "refunded up to 150 euros. Send the receipts through the expenses portal.\n"
    )
    call_command("ingest_docs", str(docs), "--source", "handbook", stdout=io.StringIO())
    return docs


@pytest.fixture
def question_set(tmp_path, handbook):
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(case) for case in CASES) + "\n")
    return path


def test_a_file_set_is_answered_scored_and_stored(question_set):
    out = _run(str(question_set))

    rows = {line.split()[1].rstrip(":"): line for line in out.splitlines()[2:5]}
    assert "pass" in rows["rollback"]
    assert "1/1" in rows["rollback"]
    assert "pass" in rows["hotel"]
    assert "not covered" in rows["wifi"]
    assert "pass" in rows["wifi"]
    assert "3/3 passed" in out
    assert "hit@5 2/2 (100.0%)" in out
    assert "said not covered 1/1 expected" in out

    run = models.EvalRun.objects.get()
    assert (run.case_count, run.passed_count, run.hit_count, run.gold_count) == (3, 3, 2, 2)
    assert run.model == "offline"
    assert run.set_name == str(question_set)
    assert run.settings_summary["knowledge"]["documents"] == 2
    results = {result.key: result for result in run.results.all()}
    assert results["rollback"].hit_rank == 1
    assert results["rollback"].retrieved[0]["path"] == "deploy.md"
    assert "deploy rollback" in results["rollback"].answer
    assert results["wifi"].covered is False
    assert run.input_tokens > 0
    assert run.output_tokens > 0
    # An eval asks no question of the bot's own record: the dashboard does not count it.
    assert not models.Question.objects.exists()


def test_json_output_has_every_figure_per_case_and_in_total(question_set, tmp_path):
    report_path = tmp_path / "report.json"

    printed = json.loads(
        _run(
            str(question_set), "--format", "json", "--json", str(report_path), "--concurrency", "3"
        )
    )

    written = json.loads(report_path.read_text())
    assert written["run_id"] == printed["run_id"]
    assert printed["totals"]["cases"] == 3
    assert printed["totals"]["passed"] == 3
    assert printed["totals"]["hit_rate"] == 1.0
    hotel = next(case for case in printed["cases"] if case["key"] == "hotel")
    assert hotel["hit"] is True
    assert hotel["missing_facts"] == []
    assert hotel["latency_ms"] >= 0
    assert hotel["input_tokens"] > 0
    assert hotel["retrieved"][0]["title"] == "Expenses"
    assert printed["comparison"] is None
    # Answered three at a time, reported in the set's order.
    assert [case["key"] for case in printed["cases"]] == ["rollback", "hotel", "wifi"]
    assert printed["settings"]["concurrency"] == 3


def test_the_admin_eval_cases_run_with_from_admin(handbook):
    kept = factories.EvalCaseFactory.create(
        text="How do I roll back a deploy?", gold_sources=["deploy.md"], required_facts=["2 hours"]
    )
    factories.EvalCaseFactory.create(text="Where is the holiday calendar?", active=False)

    out = _run("--from-admin", "--format", "json")

    report = json.loads(out)
    assert report["set"] == "admin"
    [case] = report["cases"]
    assert case["key"] == f"case-{kept.pk}"
    assert case["eval_case_id"] == kept.pk
    assert case["hit"] is True
    assert case["missing_facts"] == ["2 hours"]
    assert case["passed"] is False
    assert models.EvalResult.objects.get().eval_case_id == kept.pk


def test_compare_shows_the_regression_after_a_document_changes(question_set, handbook):
    first = json.loads(_run(str(question_set), "--format", "json"))["run_id"]
    (handbook / "deploy.md").write_text(
        "# Deploying\n\n## Rolling back\n\nAsk the platform team to roll back a deploy.\n"
    )
    call_command("ingest_docs", str(handbook), "--source", "handbook", stdout=io.StringIO())

    out = _run(str(question_set), "--compare", str(first))

    rollback = next(line for line in out.splitlines() if line.split()[1:2] == ["rollback:"])
    assert "FAIL" in rollback
    assert "REGRESSED" in rollback
    assert "0/1 missing" in rollback
    assert f"Against run {first} (3 cases in both): passed 3 -> 2" in out
    assert f"1 regression(s): passed in run {first}, fail now:" in out
    assert "  - rollback: How do I roll back a deploy?" in out

    report = json.loads(_run(str(question_set), "--compare", str(first), "--format", "json"))
    assert report["comparison"]["regressions"] == ["rollback"]
    change = next(c for c in report["comparison"]["changes"] if c["key"] == "rollback")
    assert change["regressed"] is True
    assert change["passed_before"] is True
    assert models.EvalRun.objects.get(pk=report["run_id"]).baseline_id == first

    with pytest.raises(CommandError, match="1 regression"):
        _run(str(question_set), "--compare", str(first), "--fail-on-regression")


def test_bad_input_is_refused_with_a_clear_message_and_nothing_stored(tmp_path, handbook):
    with pytest.raises(CommandError, match=r"missing\.json: no such file"):
        _run(str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text('[{"question": "Why?", "gold_sources": ["a.md"]}]')
    with pytest.raises(CommandError, match="case 1: unknown key 'gold_sources'"):
        _run(str(bad))
    bad.write_text('{"question": "Why?"}\n{"question": "How?", "facts": ["re:(unclosed"]}\n')
    with pytest.raises(CommandError, match="line 2: 're:\\(unclosed' is not a regular expression"):
        _run(str(bad))
    bad.write_text('{"question": "Why?"}\n')
    with pytest.raises(CommandError, match="there is no eval run 999"):
        _run(str(bad), "--compare", "999")
    with pytest.raises(CommandError, match="no active eval cases"):
        _run("--from-admin")
    with pytest.raises(CommandError, match="or --from-admin"):
        _run()
    assert not models.EvalRun.objects.exists()


async def test_with_a_model_configured_a_grading_model_scores_each_answer(
    question_set, fake_openai
):
    fake_openai.grade_score = 0.25

    report = await running.evaluate(cases_file=str(question_set))

    assert report.model == report.grader_model == "openai-chat:fake-model"
    rollback = next(result for result in report.results if result.key == "rollback")
    # The words are there, but the grader's score decides: 0.25 is a fail.
    assert rollback.missing_facts == ()
    assert rollback.grade == 0.25
    assert rollback.passed is False
    assert rollback.grading_tokens > 0
    graded = [request for request in fake_openai.requests if len(request.tools) == 1]
    assert len(graded) == 3
    prompts = [str(request.messages[-1]["content"]) for request in graded]
    assert any("Required facts:\n- deploy rollback\n" in prompt for prompt in prompts)
    stored = await models.EvalResult.objects.aget(run_id=report.run_id, key="rollback")
    assert stored.grade == 0.25

    plain = await running.evaluate(cases_file=str(question_set), grade=False)
    assert plain.grader_model == ""
    assert all(result.grade is None for result in plain.results)


def test_the_example_set_works_against_the_bundled_guide():
    """``evals/guide.jsonl`` is the documented example: it must keep working as the guide
    changes (the offline model misses a few facts, which is what an eval is for)."""
    launcher.ingest_guide()

    report = json.loads(_run(str(launcher.BASE_DIR / "evals" / "guide.jsonl"), "--format", "json"))

    totals = report["totals"]
    assert totals["cases"] == 60
    assert totals["errors"] == 0
    assert totals["said_not_covered"] == totals["expected_not_covered"] == 6
    assert totals["hits"] >= 0.9 * totals["gold_cases"]
    assert totals["passed"] >= 48
