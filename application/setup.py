"""What a new install still needs (the ``/`` page): each part configured or not, and the next
step. It names settings, never their values."""

import dataclasses

from asgiref.sync import sync_to_async
from django.conf import settings

from application import health
from domain import operations_counts

GUIDE_SOURCE = "guide"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Part:
    name: str
    ok: bool
    detail: str
    next_step: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetupStatus:
    parts: list[Part]

    @property
    def complete(self) -> bool:
        return all(part.ok for part in self.parts)


async def status(*, worker_silence_limit: float) -> SetupStatus:
    socket_mode = bool(settings.SLACK_APP_TOKEN)
    readiness = await health.ready(worker_silence_limit=worker_silence_limit)
    sources = (
        await sync_to_async(operations_counts.documentation_sources)()
        if readiness.database == "ok"
        else []
    )
    own = [name for name in sources if name != GUIDE_SOURCE]
    parts = [
        Part(
            name="Slack bot token",
            ok=bool(settings.SLACK_BOT_TOKEN),
            detail="set" if settings.SLACK_BOT_TOKEN else "not set",
            next_step="Create the Slack app from its manifest and set SLACK_BOT_TOKEN (xoxb-...).",
        ),
        Part(
            name="Slack signing secret",
            ok=bool(settings.SLACK_SIGNING_SECRET) or socket_mode,
            detail=(
                "set"
                if settings.SLACK_SIGNING_SECRET
                else "not needed (Socket Mode)"
                if socket_mode
                else "not set"
            ),
            next_step="Set SLACK_SIGNING_SECRET from the app's Basic Information page.",
        ),
        Part(
            name="Model",
            ok=settings.CHATBOT_MODEL != "offline",
            detail=(
                settings.CHATBOT_MODEL
                if settings.CHATBOT_MODEL != "offline"
                else "offline (extractive answers only)"
            ),
            next_step="Set CHATBOT_MODEL (e.g. openai-chat:gpt-4o-mini) and its API key.",
        ),
        Part(
            name="Documentation sources",
            ok=bool(own),
            detail=", ".join(own) if own else "only the built-in guide",
            next_step="Ingest your documentation: manage.py ingest_docs DIR --source NAME.",
        ),
        Part(
            name="Job worker",
            ok=readiness.worker == "ok",
            detail=readiness.worker,
            next_step="Start a worker (manage.py procrastinate worker) or run make run.",
        ),
    ]
    return SetupStatus(parts=parts)
