"""What an answer the documentation does not cover adds: what was searched, and whom to ask.

The asker should leave with a next step, and a reviewer reading the thread sees which sections
came closest (a gap in the documentation, or a search that missed).
"""

from collections.abc import Sequence

from django.conf import settings

CLOSEST_SHOWN = 3


def note(*, closest: Sequence[str]) -> str:
    """The lines added under a "not covered" answer; ``closest`` are the sections search found,
    best first (labelled by ``messenger.section_label``)."""
    shown = list(dict.fromkeys(closest))[:CLOSEST_SHOWN]
    if shown:
        sections = "; ".join(f"_{section}_" for section in shown)
        searched = (
            f"I searched the documentation; the closest sections do not answer it: {sections}."
        )
    else:
        searched = "I searched the documentation and found nothing close to this question."
    contact = settings.CHATBOT_NOT_COVERED_CONTACT or "the team that owns the topic"
    return f"{searched}\nFor a person's answer, ask {contact}."
