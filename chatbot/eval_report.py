"""An eval run for people and for scripts: the terminal's table, and JSON."""

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from domain.evals import comparison as comparison_module
from domain.evals import scoring

if TYPE_CHECKING:  # running imports pydantic-ai: the admin (this module's other user) must not
    from application.evals import running

QUESTION_CHARS = 48


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def hit_cell(result: scoring.CaseResult) -> str:
    if result.hit is None:
        return "-"
    return str(result.hit_rank) if result.hit else "miss"


def facts_cell(result: scoring.CaseResult) -> str:
    if result.grade is not None:
        return f"grade {result.grade:.2f}"
    if not result.required_facts:
        return "-"
    if not result.missing_facts:
        return f"{len(result.required_facts)}/{len(result.required_facts)}"
    found = len(result.required_facts) - len(result.missing_facts)
    return f"{found}/{len(result.required_facts)} missing"


def coverage_cell(result: scoring.CaseResult) -> str:
    if result.covered is None:
        return "error"
    said = "covered" if result.covered else "not covered"
    return said if result.coverage_ok else f"{said} (!)"


def change_cell(change: comparison_module.CaseChange | None) -> str:
    if change is None:
        return "new"
    label = "REGRESSED" if change.regressed else "fixed" if change.fixed else ""
    if change.hit_before and change.hit_now is False:
        label = f"{label} lost hit".strip()
    elif change.hit_before is False and change.hit_now:
        label = f"{label} new hit".strip()
    return f"{label} {change.latency_delta_ms:+d} ms".strip()


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(report: "running.Report") -> str:
    """The run as a fixed-width table, its totals and, with ``--compare``, its regressions."""
    compared = report.comparison
    changes = {change.key: change for change in compared.changes} if compared else {}
    header = ["#", "case", f"hit@{report.k}", "facts", "coverage", "result", "latency", "tokens"]
    if compared is not None:
        header.append(f"vs run {compared.baseline_run_id}")
    rows = [header]
    for number, result in enumerate(report.results, start=1):
        label = (
            result.question if result.key == result.question else f"{result.key}: {result.question}"
        )
        row = [
            str(number),
            _clip(label, QUESTION_CHARS),
            hit_cell(result),
            facts_cell(result),
            coverage_cell(result),
            "pass" if result.passed else "FAIL",
            f"{result.latency_ms} ms",
            f"{result.input_tokens}/{result.output_tokens}",
        ]
        if compared is not None:
            row.append(change_cell(changes.get(result.key)))
        rows.append(row)
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    totals = report.totals
    lines += [
        "",
        f"{totals.passed}/{totals.cases} passed ({_percent(totals.passed / totals.cases)}); "
        f"hit@{report.k} {totals.hits}/{totals.gold_cases} ({_percent(totals.hit_rate)}); "
        f"facts {totals.facts_ok}/{totals.fact_cases}; "
        f"said not covered {totals.said_not_covered}/{totals.expected_not_covered} expected; "
        f"{totals.errors} errors",
        f"latency {totals.latency_ms} ms in all, p50 {totals.latency_p50_ms} ms, "
        f"p95 {totals.latency_p95_ms} ms; tokens {totals.input_tokens} in, "
        f"{totals.output_tokens} out"
        + (f", {totals.grading_tokens} grading" if totals.grading_tokens else ""),
        f"run {report.run_id}: {report.set_name}, model {report.model}"
        + (f", graded by {report.grader_model}" if report.grader_model else "")
        + (f", commit {report.git_commit}" if report.git_commit else ""),
    ]
    if compared is not None:
        lines += ["", *comparison_lines(compared, k=report.k, results=report.results)]
    for result in report.results:
        if result.error:
            lines.append(f"error in {result.key}: {result.error}")
    return "\n".join(lines) + "\n"


def comparison_lines(
    compared: comparison_module.Comparison, *, k: int, results: tuple[scoring.CaseResult, ...]
) -> list[str]:
    questions = {result.key: result.question for result in results}
    delta = compared.hit_rate_delta
    lines = [
        f"Against run {compared.baseline_run_id} ({len(compared.changes)} cases in both): "
        f"passed {compared.passed_before} -> {compared.passed_now}; "
        f"hit@{k} {_percent(compared.hit_rate_before)} -> {_percent(compared.hit_rate_now)}"
        + (f" ({delta * 100:+.1f} points)" if delta is not None else "")
        + f"; latency {compared.latency_before_ms} -> {compared.latency_now_ms} ms "
        f"({compared.latency_delta_ms:+d} ms)",
    ]
    if compared.regressions:
        lines.append(
            f"{len(compared.regressions)} regression(s): passed in run "
            f"{compared.baseline_run_id}, fail now:"
        )
        lines += [
            f"  - {key}: {_clip(questions[key], 80)}"
            if key != questions[key]
            else f"  - {_clip(key, 80)}"
            for key in compared.regressions
        ]
    else:
        lines.append("No regressions.")
    if compared.fixed:
        lines.append(
            f"{len(compared.fixed)} fixed: " + ", ".join(_clip(key, 40) for key in compared.fixed)
        )
    if compared.new_cases:
        lines.append(f"{len(compared.new_cases)} new case(s), not in the earlier run")
    if compared.dropped_cases:
        lines.append(f"{len(compared.dropped_cases)} case(s) of the earlier run not run now")
    return lines


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def as_json(report: "running.Report") -> dict[str, Any]:
    """The run as JSON-ready data: every figure of the table, per case and in total."""
    data = {
        "run_id": report.run_id,
        "set": report.set_name,
        "git_commit": report.git_commit,
        "model": report.model,
        "grader_model": report.grader_model,
        "k": report.k,
        "settings": report.settings,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "totals": dataclasses.asdict(report.totals),
        "cases": [dataclasses.asdict(result) for result in report.results],
        "comparison": None,
    }
    compared = report.comparison
    if compared is not None:
        data["comparison"] = {
            **dataclasses.asdict(compared),
            "hit_rate_delta": compared.hit_rate_delta,
            "latency_delta_ms": compared.latency_delta_ms,
            "changes": [
                {
                    **dataclasses.asdict(change),
                    "regressed": change.regressed,
                    "fixed": change.fixed,
                    "latency_delta_ms": change.latency_delta_ms,
                }
                for change in compared.changes
            ],
        }
    plain: dict[str, Any] = _plain(data)
    return plain
