"""The highlights writer: a short paragraph on what matters most in a release."""

import dataclasses

import pydantic
from pydantic_ai import Agent


@dataclasses.dataclass(frozen=True, kw_only=True)
class HighlightsDeps:
    version: str
    # Group title and its entries' lines, most important groups first, already capped in size.
    groups: tuple[tuple[str, tuple[str, ...]], ...]


class Highlights(pydantic.BaseModel):
    paragraph: str = pydantic.Field(min_length=20, max_length=1200)


agent = Agent(
    deps_type=HighlightsDeps,
    output_type=Highlights,
    name="highlights_writer",
    instructions=(
        "You write the Highlights paragraph of a product's release notes: two to four plain "
        "sentences for the product's users on the most important changes, breaking changes "
        "first. Use only the entries given; never invent a change. No headings, no lists."
    ),
)


def prompt(*, deps: HighlightsDeps) -> str:
    parts = [f"Release: {deps.version}", ""]
    for title, lines in deps.groups:
        parts.append(f"{title}:")
        parts.extend(f"- {line}" for line in lines)
        parts.append("")
    return "\n".join(parts)
