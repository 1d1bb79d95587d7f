"""Where answers go: the small interface the answer use case talks to.

The use case knows nothing of Slack's wire format; ``chatbot/`` implements this Protocol for
Slack (status, streamed reply, Block Kit fallback) and for the terminal (``manage.py ask``).
"""

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol


class DeliveryFailed(Exception):
    """The answer could not be delivered (after the client's own retries)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Conversation:
    """Where a question was asked; empty strings outside Slack."""

    team_id: str = ""
    channel_id: str = ""
    thread_ts: str = ""
    message_ts: str = ""
    asker_id: str = ""
    # Answered only to the asker (/ask): ``response_url`` reaches them while it lasts (Slack:
    # 30 minutes); without it nothing is posted.
    private: bool = False
    response_url: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Source:
    title: str
    heading: str
    url: str


def section_label(*, title: str, heading_path: str) -> str:
    """The title and the innermost heading ("Deploying: Rollbacks"), or the title alone: how a
    section is named to the asker, in sources and elsewhere."""
    section = heading_path.split(" > ")[-1].strip()
    return f"{title}: {section}" if section and section != title else title


@dataclasses.dataclass(frozen=True, kw_only=True)
class Prompt:
    """A question offered to ask with one click (Slack's assistant pane)."""

    title: str
    message: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Names:
    """How people and places are called where the question was asked; "" when unknown."""

    asker: str = ""
    channel: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class OutgoingAnswer:
    question_id: int
    answer_id: int
    text: str
    covered: bool
    sources: list[Source]


class Messenger(Protocol):
    async def show_status(self, *, text: str, loading_messages: Sequence[str] = ()) -> None:
        """Show the asker at once that the bot is working, with ``loading_messages`` to
        rotate through while it does (where the place shows them); best effort."""

    async def name_thread(self, *, title: str) -> None:
        """Name the conversation after its first question (Slack's assistant pane); best
        effort, and nothing where conversations have no name."""

    async def suggest(self, *, prompts: Sequence[Prompt]) -> None:
        """Offer questions to ask with one click (Slack's assistant pane); best effort."""

    async def channel_name(self, *, channel_id: str) -> str:
        """A channel's name ("#deploys"), or "" when unknown; never raises."""

    async def names(self) -> Names:
        """The asker's and the conversation's names, for the record; never raises (a name
        that cannot be looked up is "")."""

    async def show_partial(
        self,
        *,
        text: str,
        on_posted: Callable[[str], Awaitable[None]],
        found: Sequence[Source] = (),
    ) -> None:
        """Show the answer as far as the model has written it, and the sections search found
        that it is written from (Slack: as steps above the answer); best effort.

        ``on_posted`` is awaited when this creates the message, as for :meth:`deliver`.
        """

    async def deliver(
        self,
        *,
        answer: OutgoingAnswer,
        existing_ref: str,
        on_posted: Callable[[str], Awaitable[None]],
        continuation_refs: Sequence[str] = (),
    ) -> str:
        """Deliver the answer and return a reference to it (Slack: the first message's ts).

        ``on_posted`` is awaited as soon as each message exists, before the rest is sent, so
        a re-run after a crash can tell: the first reference is the answer's, later ones hold
        the rest of an answer too long for one message. With ``existing_ref`` (a message an
        interrupted run left behind, or the one :meth:`show_partial` started) that message is
        completed in place instead of posting a new one, and so are ``continuation_refs``, the
        later messages that run had posted. Nothing is posted twice and nothing is cut off.
        Raises :class:`DeliveryFailed`.
        """
        ...

    async def find_posted(self, *, question_id: int, answer_id: int) -> list[str]:
        """The messages of this answer already in the conversation, first one first, or [].

        For a re-run that has no reference on record: the run before it may have posted them
        and lost the database write that remembered them. Messages carry the answer's id
        (Slack: message metadata), so they are found whatever the database lost.
        Raises :class:`DeliveryFailed` (then nothing may be posted yet).
        """
        ...

    async def apologise(self, *, text: str, existing_ref: str = "") -> None:
        """Tell the asker something went wrong.

        With ``existing_ref`` (the half-written answer of an interrupted run) that message
        becomes the apology, so no unfinished answer stays up beside it; the same happens to
        the message :meth:`show_partial` started. Raises :class:`DeliveryFailed`.
        """

    async def say(self, *, text: str) -> None:
        """Post a short message of the bot's own in the conversation (e.g. a greeting).

        Raises :class:`DeliveryFailed`.
        """
