"""The classifier agent: a category for reporting and a short title for the admin list."""

from typing import Literal

from pydantic import BaseModel, Field
from pydantic_ai import Agent

Category = Literal["HOW_TO", "TROUBLESHOOTING", "CONCEPT", "POLICY", "ACCESS", "OTHER"]

INSTRUCTIONS = """\
Classify a staff question about the company's products and processes.
Categories: HOW_TO (how do I do X), TROUBLESHOOTING (something is broken or failing),
CONCEPT (what is X, why does X work like this), POLICY (rules, allowances, approvals),
ACCESS (accounts, permissions, credentials), OTHER.
Also give a short title (at most 8 words) that names the topic."""


class Classification(BaseModel):
    category: Category
    title: str = Field(max_length=120, description="At most 8 words.")


agent: Agent[None, Classification] = Agent(
    output_type=Classification, instructions=INSTRUCTIONS, retries=2, name="classifier"
)
