"""The grading agent: a model scores an answer against what the case says it must contain.

Substrings only see the words; a hosted model paraphrases. With a model configured, this small
agent reads the question, the required facts and the answer and scores it from 0 to 1. It runs
through the one agent runner (``application.model_runs``), with its timeout, retries and usage
limits; there is no offline grader, so with the ``offline`` model the facts are checked as
substrings only.
"""

import dataclasses

from pydantic import BaseModel, Field
from pydantic_ai import Agent

from application import model_runs
from domain.evals import cases as cases_module

INSTRUCTIONS = """\
You grade answers that a documentation assistant gave to staff questions.
You get the question, the facts a correct answer must state (each a phrase, or a regular
expression after "re:"), whether the documentation is known NOT to cover the question, and the
answer. Score from 0 to 1 how well the answer states every required fact, in any wording:
1 when all are there and nothing contradicts them, 0 when none is. When the documentation does
not cover the question, a correct answer says so plainly and invents nothing: score that 1.
Give a one-sentence reason."""


class Grade(BaseModel):
    score: float = Field(ge=0, le=1, description="0 (wrong) to 1 (states every required fact).")
    reason: str = Field(default="", max_length=500)


agent: Agent[None, Grade] = Agent(
    output_type=Grade, instructions=INSTRUCTIONS, retries=2, name="eval_grader"
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Graded:
    score: float | None  # None when the grader failed
    tokens: int


def prompt(*, case: cases_module.Case, answer: str) -> str:
    facts = "\n".join(f"- {fact}" for fact in case.required_facts) or "- (none listed)"
    return (
        f"Question:\n{case.question}\n\nRequired facts:\n{facts}\n\n"
        f"Documentation known not to cover it: {'yes' if case.expect_not_covered else 'no'}\n\n"
        f"Answer:\n{answer}"
    )


async def grade(*, case: cases_module.Case, answer: str, model_name: str) -> Graded:
    run = await model_runs.run(
        agent=agent, prompt=prompt(case=case, answer=answer), deps=None, model_name=model_name
    )
    tokens = sum(record.input_tokens + record.output_tokens for record in run.records)
    return Graded(score=run.output.score if run.output is not None else None, tokens=tokens)
