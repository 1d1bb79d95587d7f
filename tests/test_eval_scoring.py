"""Scoring an eval case and comparing runs: the rules a reader of the table relies on."""

import re

import pytest

from domain.evals import cases, comparison, scoring

DEPLOY = scoring.Retrieved(source="handbook", path="ops/deploy.md", title="Deploying")
EXPENSES = scoring.Retrieved(source="handbook", path="expenses.md", title="Expenses")


@pytest.mark.parametrize(
    "gold", ["ops/deploy.md", "deploy.md", "./deploy.md", "handbook:ops/deploy.md", "deploying"]
)
def test_a_gold_source_is_a_path_its_last_parts_the_source_and_path_or_the_title(gold):
    assert scoring.matches(gold=gold, document=DEPLOY)


@pytest.mark.parametrize("gold", ["loy.md", "ops", "handbook", "guide:ops/deploy.md", ""])
def test_a_gold_source_does_not_match_part_of_a_name(gold):
    assert not scoring.matches(gold=gold, document=DEPLOY)


def _score(case: cases.Case, **overrides):
    given = {
        "k": 1,
        "retrieved": [EXPENSES, DEPLOY],
        "answer": "Run `Deploy Rollback` with the release.",
        "covered": True,
        "grade": None,
        "error": "",
        "latency_ms": 10,
        "input_tokens": 1,
        "output_tokens": 1,
    }
    return scoring.score(case=case, **{**given, **overrides})


def test_hit_at_k_counts_the_rank_of_the_first_gold_passage():
    case = cases.Case(key="rollback", question="?", gold_sources=("deploy.md",))

    assert _score(case, k=1).hit is False
    assert _score(case, k=1).hit_rank == 2
    assert _score(case, k=2).hit is True
    assert _score(case, k=2).passed is True


def test_facts_ignore_case_and_patterns_are_regular_expressions():
    case = cases.Case(key="k", question="?", required_facts=("deploy rollback", "re:release\\b"))
    assert _score(case).missing_facts == ()
    missing = cases.Case(key="k", question="?", required_facts=("two minutes", "re:^Run"))
    assert _score(missing).missing_facts == ("two minutes",)
    assert _score(missing).passed is False


def test_a_grade_decides_the_facts_when_a_model_graded_the_answer():
    case = cases.Case(key="k", question="?", required_facts=("two minutes",))
    assert _score(case, grade=0.8).passed is True
    assert _score(case, grade=0.2).passed is False


def test_coverage_must_be_what_the_case_expects_and_no_answer_fails():
    not_covered = cases.Case(key="k", question="?", expect_not_covered=True)
    assert _score(not_covered, covered=False).passed is True
    assert _score(not_covered, covered=True).passed is False
    assert _score(cases.Case(key="k", question="?"), covered=False).passed is False
    failed = _score(cases.Case(key="k", question="?"), answer=None, covered=None, error="boom")
    assert failed.passed is False


def test_a_question_set_is_a_json_list_or_json_lines():
    listed = cases.parse(text='[{"question": "Why?", "gold": "a.md", "not_covered": false}]')
    lines = cases.parse(
        text='{"question": "Why?", "gold": ["a.md"]}\n\n{"id": 7, "question": "How?"}\n'
    )

    assert listed == [cases.Case(key="Why?", question="Why?", gold_sources=("a.md",))]
    assert [case.key for case in lines] == ["Why?", "7"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("[]", "no cases"),
        ('[{"id": "a"}]', "case 1: 'question' must be a non-empty string"),
        ('{"question": "A?"}\n{"question": "A?"}', "line 2: the id 'A?' is already used by line 1"),
        ('{"question": "A?", "not_covered": "yes"}', "line 1: 'not_covered' must be true or false"),
        ('{"question": "A?", "facts": [1]}', "line 1: 'facts' must be a list of strings"),
        ("{not json", "line 1: not valid JSON"),
    ],
)
def test_a_bad_question_set_says_where_and_why(text, message):
    with pytest.raises(cases.CaseFileError, match=re.escape(message)):
        cases.parse(text=text)


def _result(key: str, *, passed: bool, hit: bool | None = True, latency: int = 10):
    case = cases.Case(
        key=key, question=f"{key}?", gold_sources=("deploy.md",) if hit is not None else ()
    )
    return _score(
        case,
        k=5,
        retrieved=[DEPLOY] if hit else [],
        covered=passed,
        latency_ms=latency,
    )


def test_a_comparison_names_regressions_fixes_lost_hits_and_the_cases_only_on_one_side():
    before = [
        _result("a", passed=True),
        _result("b", passed=False, hit=False),
        _result("gone", passed=True),
    ]
    now = [
        _result("a", passed=False, hit=False, latency=30),
        _result("b", passed=True),
        _result("new", passed=True),
    ]

    compared = comparison.compare(baseline_run_id=1, before=before, now=now)

    assert compared.regressions == ("a",)
    assert compared.fixed == ("b",)
    assert compared.lost_hits == ("a",)
    assert compared.new_cases == ("new",)
    assert compared.dropped_cases == ("gone",)
    assert (compared.passed_before, compared.passed_now) == (1, 1)
    assert compared.hit_rate_before == compared.hit_rate_now == 0.5
    assert compared.latency_delta_ms == 20
