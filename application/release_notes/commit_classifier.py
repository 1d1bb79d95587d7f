"""The commit classifier: a group and a one-line, user-facing summary for unclear commits.

It sees a batch of commits the offline rules could not place with confidence (vague subjects,
nothing to go on but the diff's paths) and must answer for exactly those commits. An answer
that leaves one out, or invents one, is sent back for another try by pydantic-ai; if it keeps
failing, the caller keeps the offline classification for that batch.
"""

import dataclasses
from typing import Literal

import pydantic
from pydantic_ai import Agent, ModelRetry, RunContext

# Breaking changes are only ever declared by the commit itself (``!`` or a footer).
GroupName = Literal[
    "FEATURES",
    "FIXES",
    "PERFORMANCE",
    "CHANGES",
    "DOCUMENTATION",
    "REFACTORING",
    "DEPENDENCIES",
    "TESTS",
    "BUILD",
    "OTHER",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class CommitToClassify:
    id: str  # short SHA, echoed back by the model
    subject: str
    body: str
    paths: tuple[str, ...]
    offline_group: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClassifierDeps:
    repository: str
    commits: tuple[CommitToClassify, ...]


class Verdict(pydantic.BaseModel):
    id: str
    group: GroupName
    summary: str = pydantic.Field(min_length=3, max_length=200)


class Classification(pydantic.BaseModel):
    commits: list[Verdict]


agent = Agent(
    # Output that fails validation goes back to the model this many times (model_runs).
    retries=2,
    deps_type=ClassifierDeps,
    output_type=Classification,
    name="commit_classifier",
    instructions=(
        "You write release notes for a software product. For each commit given, choose the "
        "group that fits what users of the product would notice, and write a one-line summary "
        "in the imperative mood, under 120 characters, saying what changed for them (not how "
        "the code changed). Do not mention commit hashes or pull request numbers. Answer for "
        "every commit id given, exactly once, and for no other."
    ),
)


@agent.output_validator
def _answers_every_commit_once(
    ctx: RunContext[ClassifierDeps], output: Classification
) -> Classification:
    asked = [commit.id for commit in ctx.deps.commits]
    answered = [verdict.id for verdict in output.commits]
    if sorted(answered) != sorted(asked):
        missing = sorted(set(asked) - set(answered))
        extra = sorted(set(answered) - set(asked))
        raise ModelRetry(
            f"Answer for each of these ids exactly once: {', '.join(asked)}. "
            f"Missing: {', '.join(missing) or 'none'}; unexpected or repeated: "
            f"{', '.join(extra) or 'duplicates'}."
        )
    return output


def prompt(*, deps: ClassifierDeps) -> str:
    """The user message: the commits, compact, with bodies and path lists cut short."""
    parts = [f"Repository: {deps.repository}", ""]
    for commit in deps.commits:
        parts.append(f"id: {commit.id}")
        parts.append(f"subject: {commit.subject}")
        if commit.body:
            parts.append("body: " + " ".join(commit.body.split())[:600])
        if commit.paths:
            shown = ", ".join(commit.paths[:12])
            more = f" (+{len(commit.paths) - 12} more)" if len(commit.paths) > 12 else ""
            parts.append(f"paths: {shown}{more}")
        parts.append(f"offline guess: {commit.offline_group}")
        parts.append("")
    return "\n".join(parts)
