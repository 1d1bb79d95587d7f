"""The highlights writer: a short paragraph on what matters most in a release."""

import dataclasses
import re

import pydantic
from pydantic_ai import Agent, ModelRetry, RunContext


@dataclasses.dataclass(frozen=True, kw_only=True)
class HighlightsDeps:
    version: str
    # Group title and its entries' lines, most important groups first, already capped in size.
    groups: tuple[tuple[str, tuple[str, ...]], ...]


class Highlights(pydantic.BaseModel):
    paragraph: str = pydantic.Field(min_length=20, max_length=1200)


agent = Agent(
    # Output that fails validation goes back to the model this many times (model_runs).
    retries=2,
    deps_type=HighlightsDeps,
    output_type=Highlights,
    name="highlights_writer",
    instructions=(
        "You write the Highlights paragraph of a product's release notes: two to four plain "
        "sentences for the product's users on the most important changes, breaking changes "
        "first. Use only the entries given; never invent a change. No headings, no lists."
    ),
)


# A line that Markdown would read as a heading, a list item or a quote.
_BLOCK = re.compile(r"^\s*(?:#{1,6}(?:\s|$)|[-*+](?:\s|$)|\d+[.)](?:\s|$)|>)", re.MULTILINE)


@agent.output_validator
def _plain_sentences(ctx: RunContext[HighlightsDeps], output: Highlights) -> Highlights:
    """The paragraph sits under the notes' own heading: a heading or a list of its own would
    break the page, so such an answer is sent back, and after the retries the offline
    sentence is used instead."""
    if _BLOCK.search(output.paragraph):
        raise ModelRetry("Write two to four plain sentences: no headings, no lists, no quotes.")
    return output


def prompt(*, deps: HighlightsDeps) -> str:
    parts = [f"Release: {deps.version}", ""]
    for title, lines in deps.groups:
        parts.append(f"{title}:")
        parts.extend(f"- {line}" for line in lines)
        parts.append("")
    return "\n".join(parts)
