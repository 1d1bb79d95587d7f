"""The answer agent: searches the knowledge base and answers with the passages it cites.

Typed deps carry the search function (so tests and the terminal use the same agent) and
collect every passage the model saw, which is what citations are built from: a chunk id the
model did not get from a search is rejected through pydantic-ai's retry mechanism.
"""

import dataclasses
from typing import Literal, Protocol

from pydantic import BaseModel, Field
from pydantic_ai import Agent, ModelRetry, RunContext

INSTRUCTIONS = """\
You answer questions from the company's staff using ONLY the company documentation.
Always call `search_docs` first (you may call it again with a better query).
Answer concisely in Markdown, in the language of the question.
Cite the chunk ids of the passages your answer relies on in `cited_chunk_ids`.
If the passages do not answer the question, say plainly that the documentation does not cover
it, set `covered` to false and cite nothing. Never invent facts, links or commands.
Earlier messages are the conversation so far in this thread; use them for context.
Also label the question for the people who review answers: its `category`
(HOW_TO: how do I do X; TROUBLESHOOTING: something is broken or failing; CONCEPT: what is X,
why does X work like this; POLICY: rules, allowances, approvals; ACCESS: accounts, permissions,
credentials; OTHER) and a `title` of at most 8 words that names its topic."""

Category = Literal["HOW_TO", "TROUBLESHOOTING", "CONCEPT", "POLICY", "ACCESS", "OTHER"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Passage:
    chunk_id: int
    title: str
    heading_path: str
    url: str
    text: str
    score: float


class Search(Protocol):
    async def __call__(self, *, query: str, limit: int) -> list[Passage]: ...


@dataclasses.dataclass(kw_only=True)
class AnswerDeps:
    search: Search
    seen: dict[int, Passage] = dataclasses.field(default_factory=dict)
    # Where the asker is, for the model: e.g. the channel they view beside the assistant pane.
    context: str = ""


class AnswerOutput(BaseModel):
    answer: str = Field(description="The answer, in Markdown.")
    cited_chunk_ids: list[int] = Field(
        default_factory=list, description="chunk_id of every passage the answer relies on."
    )
    covered: bool = Field(description="Whether the documentation answered the question.")
    # The labels ride on the answer's own call: a model call of their own cost every question
    # a second request (and about as much CPU as the answer without its streaming). A model
    # that leaves them out only costs the labels, never the answer.
    category: Category = Field(default="OTHER", description="The question's category.")
    title: str = Field(default="", max_length=120, description="At most 8 words.")


class SearchHit(BaseModel):
    chunk_id: int
    title: str
    heading: str
    url: str
    text: str


agent: Agent[AnswerDeps, AnswerOutput] = Agent(
    deps_type=AnswerDeps,
    output_type=AnswerOutput,
    instructions=INSTRUCTIONS,
    retries=2,
    name="answer",
)


@agent.instructions
def where_the_asker_is(ctx: RunContext[AnswerDeps]) -> str:
    return ctx.deps.context


SEARCH_LIMIT = 5
SEARCH_TOOL = "search_docs"


@agent.tool
async def search_docs(ctx: RunContext[AnswerDeps], query: str) -> list[SearchHit]:
    """Search the company documentation; returns the best passages with their chunk ids."""
    passages = await ctx.deps.search(query=query, limit=SEARCH_LIMIT)
    for passage in passages:
        ctx.deps.seen[passage.chunk_id] = passage
    return [
        SearchHit(
            chunk_id=passage.chunk_id,
            title=passage.title,
            heading=passage.heading_path,
            url=passage.url,
            text=passage.text[:4000],
        )
        for passage in passages
    ]


@agent.output_validator
async def cite_only_what_was_found(
    ctx: RunContext[AnswerDeps], output: AnswerOutput
) -> AnswerOutput:
    unknown = [chunk_id for chunk_id in output.cited_chunk_ids if chunk_id not in ctx.deps.seen]
    if unknown:
        raise ModelRetry(
            f"chunk ids {unknown} were not returned by search_docs; cite only returned ids"
        )
    if not output.answer.strip():
        raise ModelRetry("the answer is empty")
    return output
