"""Signed requests of every shape at Slack's Request URL: a 4xx or a 200, never a 5xx.

Events and interactivity (the buttons) share the one Request URL, ``/slack/events`` (the
manifest points both there). The suite runs ``FUZZ_EXAMPLES`` examples (300 by default);
``FUZZ_EXAMPLES=1200`` is the run README.md reports.
"""

import collections
import hashlib
import hmac
import json
import os
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot import slack_blocks
from tests.slack.conftest import SIGNING_SECRET, post_events

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
STATUSES: collections.Counter[int] = collections.Counter()

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_ids = st.sampled_from(["U123", "C1", "T1", "1700000000.000100", "", "Ev1"]) | _json


def _maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return value | _json


_event = st.fixed_dictionaries(
    {},
    optional={
        "type": _maybe(
            st.sampled_from(
                ["app_mention", "message", "assistant_thread_started", "reaction_added"]
            )
        ),
        "user": _ids,
        "text": _maybe(st.text(max_size=40)),
        "ts": _ids,
        "thread_ts": _ids,
        "channel": _ids,
        "channel_type": _maybe(st.sampled_from(["im", "channel"])),
        "subtype": _maybe(st.sampled_from(["file_share", "thread_broadcast"])),
        "team": _ids,
        "user_team": _ids,
        "bot_id": _json,
        "assistant_thread": _json,
    },
)
_envelope = st.fixed_dictionaries(
    {},
    optional={
        "type": _maybe(st.sampled_from(["event_callback", "url_verification", "app_rate_limited"])),
        "event": _maybe(_event),
        "event_id": _ids,
        "team_id": _ids,
        "event_time": _json,
        "challenge": _json,
        "authorizations": _maybe(
            st.lists(st.fixed_dictionaries({"user_id": _ids, "is_bot": _json}), max_size=2)
        ),
        "is_ext_shared_channel": _json,
    },
)
_action = st.fixed_dictionaries(
    {},
    optional={
        "action_id": _maybe(
            st.sampled_from([slack_blocks.FEEDBACK_UP, slack_blocks.FEEDBACK_DOWN, "other"])
        ),
        "value": _ids,
        "type": _json,
    },
)
_interaction = st.fixed_dictionaries(
    {},
    optional={
        "type": _maybe(st.sampled_from(["block_actions", "view_submission", "shortcut"])),
        "user": _maybe(st.fixed_dictionaries({"id": _ids})),
        "actions": _maybe(st.lists(_maybe(_action), max_size=3)),
        "team": _json,
        "event": _json,
        "authorizations": _json,
        "channel": _json,
    },
)


def _json_body(value: Any) -> str:
    return json.dumps(value)


# Well-formed envelopes and button presses, with any fields inside.
_event_callbacks = st.builds(
    lambda event, event_id, extra: {
        **extra,
        "type": "event_callback",
        "event": event,
        "event_id": event_id,
        "team_id": "T1",
    },
    _event,
    st.text(min_size=1, max_size=12),
    _envelope,
)
_presses = st.builds(
    lambda user, actions, extra: {
        **extra,
        "type": "block_actions",
        "user": {"id": user},
        "actions": actions,
    },
    st.text(max_size=8),
    st.lists(
        st.builds(
            lambda action_id, value: {"action_id": action_id, "value": value},
            st.sampled_from([slack_blocks.FEEDBACK_UP, slack_blocks.FEEDBACK_DOWN, "other"]),
            _json,
        ),
        min_size=1,
        max_size=2,
    ),
    _interaction,
)

_bodies = st.one_of(
    _event_callbacks.map(_json_body),
    _presses.map(lambda payload: urlencode({"payload": json.dumps(payload)})),
    _json.map(_json_body),
    _envelope.map(_json_body),
    _interaction.map(lambda payload: urlencode({"payload": json.dumps(payload)})),
    _json.map(lambda payload: urlencode({"payload": json.dumps(payload)})),
    st.text(max_size=60).map(lambda text: urlencode({"payload": text})),
    st.text(max_size=40).map(lambda text: urlencode({"command": "/ask", "text": text})),
    st.text(max_size=80),
)
_timestamps = st.one_of(
    st.sampled_from(["now"] * 12 + ["abc", "1e9", "", "-1", " 1", "99999999999999999999999"]),
    st.text(max_size=12),
)


def _headers(body: str, timestamp: str, signed: bool, content_type: str) -> dict[str, str]:
    """Slack's headers: signed with the app's secret, or forged; any timestamp."""
    stamp = str(int(time.time())) if timestamp == "now" else timestamp
    headers = {"Content-Type": content_type}
    if not (stamp.isascii() and stamp.isprintable()):
        return headers  # not sendable as a header: the request arrives without one
    secret = SIGNING_SECRET if signed else "forged"
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return headers | {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=_bodies,
    timestamp=_timestamps,
    signed=st.sampled_from([True, True, True, False]),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain"]
    ),
)
async def test_no_signed_or_unsigned_request_gets_a_5xx(
    fake_slack, body, timestamp, signed, content_type
):
    response = await post_events(body, headers=_headers(body, timestamp, signed, content_type))

    STATUSES[response.status_code] += 1
    assert response.status_code < 500, (response.status_code, body, response.text)
    valid_stamp = timestamp == "now"
    if not (signed and valid_stamp):
        assert response.status_code == 401


def test_fuzzing_covered_every_kind_of_answer():
    """The run above reached each outcome (so it was not, say, 401 for everything)."""
    if not STATUSES:
        pytest.skip("the fuzz test did not run in this session")
    print(f"\nfuzzed requests by status: {dict(sorted(STATUSES.items()))}")  # noqa: T201
    assert sum(STATUSES.values()) >= EXAMPLES
    assert {200, 400, 401} <= set(STATUSES)
    assert not [status for status in STATUSES if status >= 500]
