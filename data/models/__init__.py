"""Django models, one module per area. Business workflows live in domain/, not here."""

from data.models.evals import EvalCase, EvalResult, EvalRun
from data.models.feedback import Escalation, Feedback, ReviewedAnswer
from data.models.inbox import SlackEvent
from data.models.knowledge import DEFAULT_LANGUAGE, Chunk, Document, DocumentationSource
from data.models.questions import AgentRun, Answer, Citation, Question
from data.models.release_notes import ReleaseNotes

__all__ = [
    "DEFAULT_LANGUAGE",
    "AgentRun",
    "Answer",
    "Chunk",
    "Citation",
    "Document",
    "DocumentationSource",
    "Escalation",
    "EvalCase",
    "EvalResult",
    "EvalRun",
    "Feedback",
    "Question",
    "ReleaseNotes",
    "ReviewedAnswer",
    "SlackEvent",
]
