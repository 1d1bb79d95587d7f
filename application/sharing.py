"""Share a private answer (/ask) in its channel, attributed to the asker: claim it once,
post it (through the interface's ``post``), and give the claim back if the post fails."""

import enum
from collections.abc import Awaitable, Callable

from django.utils import timezone

from application import writes
from application.answering import messenger
from domain.questions import sharing


class Outcome(enum.StrEnum):
    SHARED = "shared"
    NOT_YOURS_OR_SHARED = "not yours, or shared already"
    FAILED = "failed"


async def share(
    *,
    answer_id: int,
    user_id: str,
    post: Callable[[sharing.SharedAnswer], Awaitable[None]],
) -> Outcome:
    """Share the answer once; ``post`` raises :class:`messenger.DeliveryFailed` if the
    channel did not get it."""
    shared = await writes.write(
        sharing.claim, answer_id=answer_id, user_id=user_id, now=timezone.now()
    )
    if shared is None:
        return Outcome.NOT_YOURS_OR_SHARED
    try:
        await post(shared)
    except messenger.DeliveryFailed:
        await writes.write(sharing.release, answer_id=answer_id)
        return Outcome.FAILED
    return Outcome.SHARED
