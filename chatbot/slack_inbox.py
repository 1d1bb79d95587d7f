"""Group commit for Slack's acks: the events that arrive together share one transaction.

An event's transaction (insert, defer, commit) costs a few round trips to PostgreSQL and a
commit, and in a burst (a busy channel mentions the bot, Slack redelivers a backlog) hundreds
arrive within milliseconds, each waiting for the ones before it. So the events are written by
a few lanes, each an ack thread holding at most one pooled connection while it writes: an
event that finds a lane free is written at once, alone (nothing waits to fill a group), and
the events that arrive while every lane is busy are written by the next free lane, all of them
(up to :data:`MAX_GROUP`) in one transaction: one insert, one defer, one commit
(``application/inbox.py``). Each request awaits its own event's outcome.

A group is all or nothing, so when it fails each of its events is written again alone: a bad
event (one PostgreSQL refuses) fails only its own request, and Slack retries it, never its
neighbours. Except when the pool had no connection to spare (``PoolTimeout``): that is no
event's fault, writing them alone would only wait again, and every request of the group gets
the error (a 503 with ``Retry-After``).

The lanes are the pool's share that jobs cannot take (:data:`ACK_THREADS`, 2 by default), so a
burst of any size needs no more threads or connections than that. The same threads run the
other Slack requests' database work (a feedback vote, :func:`executor`).
"""

import asyncio
import collections
import contextvars
import dataclasses
import itertools
import logging
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from procrastinate.types import JSONDict

from application.inbox import accepting
from chatbot import database_busy, tasks

logger = logging.getLogger(__name__)

# Threads that run the Slack requests' database work, each holding at most one pooled
# connection, only while its transaction runs: the pool's reserve beyond the jobs' database
# threads (2 by default), so an ack never waits for a connection that jobs hold. At least one,
# at most four (more only add contention).
ACK_THREADS = max(1, min(4, settings.DATABASE_POOL_MAX_SIZE - settings.CHATBOT_DATABASE_THREADS))
# The most events one transaction writes: a group stays a few milliseconds of work.
MAX_GROUP = 100

_executors = [
    ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"slack-ack-{number}")
    for number in range(ACK_THREADS)
]
_next_executor = itertools.cycle(_executors)


def executor() -> ThreadPoolExecutor:
    """An ack thread, for a Slack request's database work other than an event's ack."""
    return next(_next_executor)


def _enqueue(stored_ids: list[int]) -> None:
    jobs: list[JSONDict] = [{"slack_event_id": stored_id} for stored_id in stored_ids]
    tasks.answer_slack_event.batch_defer(*jobs)


@dataclasses.dataclass(frozen=True)
class _Waiting:
    event: accepting.Event
    outcome: asyncio.Future[accepting.Outcome]


class _Lanes:
    """The events waiting to be written and the lanes free to write them, for one event loop
    (the server has one; tests have one per test)."""

    def __init__(self) -> None:
        self.waiting: collections.deque[_Waiting] = collections.deque()
        self.free = list(_executors)
        self.running: set[asyncio.Task[None]] = set()

    async def accept(self, event: accepting.Event) -> accepting.Outcome:
        outcome = asyncio.get_running_loop().create_future()
        self.waiting.append(_Waiting(event, outcome))
        if self.free:
            # A context of its own: the lane serves many requests, and logs as none of them.
            lane = asyncio.create_task(self._drain(self.free.pop()), context=contextvars.Context())
            self.running.add(lane)
            lane.add_done_callback(self.running.discard)
        return await outcome

    async def _drain(self, lane: ThreadPoolExecutor) -> None:
        """Write what is waiting, a group at a time, until nothing is; then free the lane."""
        group: list[_Waiting] = []
        try:
            async with ThreadSensitiveContext(executor=lane):
                while self.waiting:
                    size = min(MAX_GROUP, len(self.waiting))
                    taken = [self.waiting.popleft() for _ in range(size)]
                    # A request that went away before its turn is not written: Slack retries it.
                    group = [waiting for waiting in taken if not waiting.outcome.done()]
                    if group:
                        await _write(group)
                    group = []
        except BaseException as error:
            # Cancelled (the loop is closing): nobody may wait forever for an outcome.
            for waiting in [*group, *self.waiting]:
                _settle(waiting, error=error)
            self.waiting.clear()
            raise
        finally:
            self.free.append(lane)


async def _write(group: Sequence[_Waiting]) -> None:
    try:
        outcomes = await accepting.accept_all(
            events=[waiting.event for waiting in group], enqueue=_enqueue
        )
    except Exception as error:
        if len(group) == 1 or database_busy.is_pool_timeout(error):
            for waiting in group:
                _settle(waiting, error=error)
            return
        logger.warning("A group of %d events failed (%s); writing each alone", len(group), error)
        for waiting in group:
            await _write([waiting])
        return
    for waiting, outcome in zip(group, outcomes, strict=True):
        _settle(waiting, outcome=outcome)


def _settle(
    waiting: _Waiting,
    *,
    outcome: accepting.Outcome | None = None,
    error: BaseException | None = None,
) -> None:
    if waiting.outcome.done():
        return
    if isinstance(error, asyncio.CancelledError):
        waiting.outcome.cancel()
    elif error is not None:
        waiting.outcome.set_exception(error)
    elif outcome is not None:
        waiting.outcome.set_result(outcome)


_lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lanes] = weakref.WeakKeyDictionary()


async def accept(*, event: accepting.Event) -> accepting.Outcome:
    """Store the event and queue its job, in a transaction shared with the events that arrive
    at the same moment; its outcome once that transaction committed."""
    loop = asyncio.get_running_loop()
    lanes = _lanes.get(loop)
    if lanes is None:
        lanes = _lanes[loop] = _Lanes()
    return await lanes.accept(event)
