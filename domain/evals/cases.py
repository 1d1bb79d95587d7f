"""An eval case, and the file format of a question set.

A question set is a UTF-8 file holding either a JSON array of case objects, or JSON lines
(one case object per line; blank lines are skipped). A case object has:

- ``question`` (required): the question, as someone would ask it;
- ``id``: a name that identifies the case across runs (default: the question itself);
- ``gold``: documents that answer it, as paths relative to their source (``admin.md``,
  ``guides/deploy.md``; a path's last parts are enough) or titles (``Reviewing in admin``);
- ``facts``: what the answer must contain, each a case-insensitive substring, or
  ``re:PATTERN`` for a case-insensitive regular expression;
- ``not_covered``: true when the documentation does not cover it and the bot should say so.

Anything else is refused, naming the case, so a misspelt key cannot silently drop a check.
"""

import dataclasses
import json
import re
from typing import Any

FACT_PATTERN_PREFIX = "re:"
MAX_KEY_CHARS = 500
_KEYS = {"id", "question", "gold", "facts", "not_covered"}


class CaseFileError(ValueError):
    """The question set cannot be read; the message says where and why."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Case:
    key: str  # identifies the case across runs
    question: str
    gold_sources: tuple[str, ...] = ()
    required_facts: tuple[str, ...] = ()
    expect_not_covered: bool = False
    eval_case_id: int | None = None  # when it is an eval case of the admin


def fact_error(fact: str) -> str:
    """Why ``fact`` cannot be checked ("" when it can): an empty one, or a bad pattern."""
    if not fact.strip():
        return "a fact is empty"
    if fact.startswith(FACT_PATTERN_PREFIX):
        try:
            re.compile(fact.removeprefix(FACT_PATTERN_PREFIX))
        except re.error as error:
            return f"{fact!r} is not a regular expression ({error})"
    return ""


def parse(*, text: str) -> list[Case]:
    """The cases of a question set file's ``text``; raises ``CaseFileError``."""
    stripped = text.strip()
    if not stripped:
        raise CaseFileError("the question set is empty")
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise CaseFileError(f"not valid JSON: {error}") from None
        located = [(f"case {number}", item) for number, item in enumerate(items, start=1)]
    else:
        located = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                located.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as error:
                raise CaseFileError(f"line {number}: not valid JSON: {error}") from None
    cases = [_case(where, item) for where, item in located]
    seen: dict[str, str] = {}
    for (where, _item), case in zip(located, cases, strict=True):
        if case.key in seen:
            raise CaseFileError(f"{where}: the id {case.key!r} is already used by {seen[case.key]}")
        seen[case.key] = where
    if not cases:
        raise CaseFileError("the question set has no cases")
    return cases


def _case(where: str, item: Any) -> Case:
    if not isinstance(item, dict):
        raise CaseFileError(f"{where}: a case is a JSON object with a question")
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise CaseFileError(
            f"{where}: unknown key {', '.join(map(repr, unknown))} "
            f"(a case has {', '.join(sorted(_KEYS))})"
        )
    question = item.get("question")
    if not isinstance(question, str) or not question.strip():
        raise CaseFileError(f"{where}: 'question' must be a non-empty string")
    key = item.get("id", question.strip())
    if not isinstance(key, str | int) or not str(key).strip():
        raise CaseFileError(f"{where}: 'id' must be a non-empty string")
    gold = _strings(where, item, "gold")
    facts = _strings(where, item, "facts")
    for fact in facts:
        if problem := fact_error(fact):
            raise CaseFileError(f"{where}: {problem}")
    not_covered = item.get("not_covered", False)
    if not isinstance(not_covered, bool):
        raise CaseFileError(f"{where}: 'not_covered' must be true or false")
    return Case(
        key=str(key).strip()[:MAX_KEY_CHARS],
        question=question.strip(),
        gold_sources=gold,
        required_facts=facts,
        expect_not_covered=not_covered,
    )


def _strings(where: str, item: dict[str, Any], name: str) -> tuple[str, ...]:
    value = item.get(name, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise CaseFileError(f"{where}: {name!r} must be a list of strings")
    return tuple(entry.strip() for entry in value if entry.strip())
