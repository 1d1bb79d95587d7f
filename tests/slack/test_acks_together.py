"""Group commit: events acknowledged together share a transaction, and still each get their
own outcome: one row and one job per event, copies dropped, a bad event failing alone."""

import asyncio
import json
from collections.abc import Sequence

import httpx
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import DataError
from procrastinate.contrib.django.models import ProcrastinateJob

from application.inbox import accepting
from chatbot import asgi, database_busy, slack_inbox
from data import models
from tests.fakes import slack as fake_slack_module
from tests.slack.conftest import ASKER, SIGNING_SECRET, event_callback, mention
from tests.slack.test_ack_path import _every_pooled_connection_held, _pool

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def groups(monkeypatch) -> list[list[str]]:
    """The ``event_id``s of every transaction the acks ran, in order."""
    seen: list[list[str]] = []
    accept_all = accepting.accept_all

    async def spy(*, events: Sequence[accepting.Event], **kwargs) -> list[accepting.Outcome]:
        seen.append([event.event_id for event in events])
        return await accept_all(events=events, **kwargs)

    monkeypatch.setattr(accepting, "accept_all", spy)
    return seen


def _mention(event_id: str, text: str = "how do I roll back a deploy?") -> accepting.Event:
    body = event_callback(mention(text), event_id=event_id)
    return accepting.Event(event_id=event_id, team_id="T1", event_type="app_mention", payload=body)


def _thread_reply_nobody_answered(event_id: str) -> accepting.Event:
    reply = {
        "type": "message",
        "user": ASKER,
        "text": "thanks all",
        "ts": "1700000000.000300",
        "thread_ts": "1700000000.000299",
        "channel": "C1",
    }
    return accepting.Event(
        event_id=event_id,
        team_id="T1",
        event_type="message",
        payload=event_callback(reply, event_id=event_id),
        follow_up_of=accepting.ThreadReply(
            channel_id="C1", thread_ts="1700000000.000299", asker_id=ASKER
        ),
    )


async def _jobs_by_event() -> dict[str, int]:
    """How many answer jobs each stored event has, by its ``event_id``."""
    ids = {
        pk: event_id
        async for pk, event_id in models.SlackEvent.objects.values_list("pk", "event_id")
    }
    counts = dict.fromkeys(ids.values(), 0)
    async for job in ProcrastinateJob.objects.filter(task_name="answer_slack_event"):
        counts[ids[job.args["slack_event_id"]]] += 1
    return counts


async def test_events_acked_together_each_get_exactly_one_job(groups):
    events = [_mention(f"Ev{number:02d}") for number in range(30)]
    copies = [_mention("Ev07"), _mention("Ev21")]  # Slack's retries, arriving meanwhile
    chatter = _thread_reply_nobody_answered("EvChat")

    outcomes = await asyncio.gather(
        *(slack_inbox.accept(event=event) for event in [*events, *copies, chatter])
    )

    assert outcomes == [accepting.Outcome.STORED] * 30 + [
        accepting.Outcome.REPEATED,
        accepting.Outcome.REPEATED,
        accepting.Outcome.NOT_A_FOLLOW_UP,
    ]
    assert await _jobs_by_event() == {event.event_id: 1 for event in events}
    assert max(len(group) for group in groups) > 1  # they did share a transaction
    assert sorted(event_id for group in groups for event_id in group) == sorted(
        event.event_id for event in [*events, *copies, chatter]
    )


async def test_an_event_postgresql_refuses_fails_alone_and_its_group_is_stored(groups):
    events = [_mention(f"Ev{number:02d}") for number in range(10)]
    bad = _mention("EvBad", text="a NUL character \x00 that jsonb refuses")

    outcomes = await asyncio.gather(
        *(slack_inbox.accept(event=event) for event in [*events[:5], bad, *events[5:]]),
        return_exceptions=True,
    )

    assert isinstance(outcomes[5], DataError)
    assert outcomes[:5] + outcomes[6:] == [accepting.Outcome.STORED] * 10
    assert await _jobs_by_event() == {event.event_id: 1 for event in events}
    assert any("EvBad" in group and len(group) > 1 for group in groups)  # failed together,
    assert ["EvBad"] in groups  # then alone


async def test_over_http_only_the_bad_event_of_a_burst_is_refused(fake_slack):
    bodies = [
        json.dumps(event_callback(mention(f"question {number}"), event_id=f"Ev{number:02d}"))
        for number in range(8)
    ]
    bodies.insert(3, json.dumps(event_callback(mention("NUL \x00"), event_id="EvBad")))
    transport = httpx.ASGITransport(app=asgi.application)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/slack/events",
                    content=body,
                    headers={
                        **fake_slack_module.signed_headers(body=body, secret=SIGNING_SECRET),
                        "Content-Type": "application/json",
                    },
                )
                for body in bodies
            )
        )

    # Refused at the door (a NUL, which PostgreSQL cannot store, is a 400); its neighbours are
    # stored. The group commit's isolation of an event PostgreSQL refuses is shown above.
    assert [response.status_code for response in responses] == [200] * 3 + [400] + [200] * 5
    assert await models.SlackEvent.objects.acount() == 8
    assert await ProcrastinateJob.objects.filter(task_name="answer_slack_event").acount() == 8


async def test_a_group_that_finds_the_pool_exhausted_is_asked_to_retry_not_written_one_by_one(
    groups,
):
    events = [_mention(f"Ev{number}") for number in range(3)]

    def accept_while_every_connection_is_taken() -> list[object]:
        async def accept_all() -> list[object]:
            return await asyncio.gather(
                *(slack_inbox.accept(event=event) for event in events), return_exceptions=True
            )

        with _pool(max_size=2, min_size=1, timeout=0.2), _every_pooled_connection_held(2):
            return async_to_sync(accept_all)()

    outcomes = await sync_to_async(accept_while_every_connection_is_taken, thread_sensitive=False)()

    assert all(database_busy.is_pool_timeout(outcome) for outcome in outcomes)  # type: ignore[arg-type]
    assert groups == [["Ev0", "Ev1", "Ev2"]]  # one wait for a connection, not one per event
    assert await models.SlackEvent.objects.acount() == 0
