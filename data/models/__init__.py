"""Django models, one module per area. Business workflows live in domain/, not here."""

from data.models.knowledge import Chunk, Document, DocumentationSource
from data.models.questions import (
    AgentRun,
    Answer,
    Citation,
    Escalation,
    Feedback,
    Question,
    SlackEvent,
)
from data.models.release_notes import ReleaseNotes

__all__ = [
    "AgentRun",
    "Answer",
    "Chunk",
    "Citation",
    "Document",
    "DocumentationSource",
    "Escalation",
    "Feedback",
    "Question",
    "ReleaseNotes",
    "SlackEvent",
]
