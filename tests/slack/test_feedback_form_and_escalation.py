"""👍/👎 as Slack's feedback buttons, the form a 👎 opens, and "Ask a person"."""

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from data import models
from domain.questions import escalation_routes
from tests.fakes import slack as fake_slack_module
from tests.slack.conftest import (
    ASKER,
    CHANNEL,
    event_callback,
    mention,
    post_signed,
    run_worker_until_idle,
)

pytestmark = pytest.mark.django_db(transaction=True)

THREAD = "1700000000.000100"


async def _interaction(payload: dict[str, Any]) -> int:
    response = await post_signed(
        urlencode({"payload": json.dumps(payload)}),
        content_type="application/x-www-form-urlencoded",
    )
    return response.status_code


def _press(action: dict[str, Any], *, user: str = ASKER) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": fake_slack_module.TEAM_ID},
        "team": {"id": fake_slack_module.TEAM_ID},
        "api_app_id": "A1",
        "container": {
            "type": "message",
            "channel_id": CHANNEL,
            "message_ts": "1700000100.000002",
            "thread_ts": THREAD,
        },
        "channel": {"id": CHANNEL},
        "trigger_id": "1234.5678.abcd",
        "actions": [{**action, "block_id": "x", "action_ts": "1.1"}],
    }


def _feedback(value: str) -> dict[str, Any]:
    return {"action_id": "feedback", "type": "feedback_buttons", "value": value}


def _sent_form(answer_id: int | str, *, reason: Any, comment: str | None) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "user": {"id": ASKER, "team_id": fake_slack_module.TEAM_ID},
        "team": {"id": fake_slack_module.TEAM_ID},
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "feedback_reason",
            "private_metadata": str(answer_id),
            "state": {
                "values": {
                    "reason": {
                        "reason": {
                            "type": "radio_buttons",
                            "selected_option": reason
                            if not isinstance(reason, str)
                            else {"value": reason, "text": {"type": "plain_text", "text": reason}},
                        }
                    },
                    "comment": {"comment": {"type": "plain_text_input", "value": comment}},
                }
            },
        },
    }


async def _answered(fake_slack) -> tuple[models.Answer, list[dict[str, Any]]]:
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()
    answer = await models.Answer.objects.aget()
    [message] = [m for m in fake_slack.replies(thread_ts=THREAD) if m.metadata]
    return answer, message.blocks


async def test_an_answer_carries_slacks_feedback_buttons_with_its_id(fake_slack):
    answer, blocks = await _answered(fake_slack)

    [actions] = [block for block in blocks if block["type"] == "context_actions"]
    [buttons] = actions["elements"]
    assert buttons["type"] == "feedback_buttons"
    assert buttons["positive_button"]["value"] == f"UP:{answer.pk}"
    assert buttons["negative_button"]["value"] == f"DOWN:{answer.pk}"
    # Nobody to escalate to is configured: no "Ask a person".
    assert "ask_a_person" not in json.dumps(blocks)


async def test_a_thumbs_down_opens_a_form_whose_reason_is_stored_on_the_vote(fake_slack):
    answer, _ = await _answered(fake_slack)

    assert await _interaction(_press(_feedback(f"DOWN:{answer.pk}"))) == 200

    vote = await models.Feedback.objects.aget()
    assert (vote.vote, vote.reason) == ("DOWN", "")
    [opened] = fake_slack.views
    assert opened["trigger_id"] == "1234.5678.abcd"
    assert opened["view"]["callback_id"] == "feedback_reason"
    assert opened["view"]["private_metadata"] == str(answer.pk)
    radio = opened["view"]["blocks"][0]["element"]
    assert [option["value"] for option in radio["options"]] == [
        "WRONG",
        "OUTDATED",
        "NOT_FOUND",
        "OTHER",
    ]

    form = _sent_form(answer.pk, reason="OUTDATED", comment="The rollback command was renamed.")
    assert await _interaction(form) == 200

    vote = await models.Feedback.objects.aget()
    assert (vote.vote, vote.reason, vote.comment) == (
        "DOWN",
        "OUTDATED",
        "The rollback command was renamed.",
    )


async def test_a_thumbs_up_stores_the_vote_opens_no_form_and_drops_an_old_reason(fake_slack):
    answer, _ = await _answered(fake_slack)
    await _interaction(_press(_feedback(f"DOWN:{answer.pk}")))
    await _interaction(_sent_form(answer.pk, reason="WRONG", comment="no"))
    fake_slack.views.clear()

    assert await _interaction(_press(_feedback(f"UP:{answer.pk}"))) == 200

    vote = await models.Feedback.objects.aget()
    assert (vote.vote, vote.reason, vote.comment) == ("UP", "", "")
    assert fake_slack.views == []


async def test_a_form_that_cannot_open_keeps_the_vote(fake_slack):
    answer, _ = await _answered(fake_slack)
    fake_slack.refuse["views.open"] = "expired_trigger_id"

    assert await _interaction(_press(_feedback(f"DOWN:{answer.pk}"))) == 200

    assert (await models.Feedback.objects.aget()).vote == "DOWN"


@pytest.mark.parametrize(
    "form",
    [
        _sent_form(1, reason="BORING", comment=None),  # not one of the reasons
        _sent_form(1, reason=None, comment="x"),  # no reason chosen
        _sent_form("not-a-number", reason="WRONG", comment=None),
        _sent_form(999_999, reason="WRONG", comment=None),  # an answer that does not exist
        {**_sent_form(1, reason="WRONG", comment=None), "view": {"callback_id": "x"}},
    ],
)
async def test_a_form_we_cannot_read_is_acknowledged_and_stores_nothing(fake_slack, form):
    assert await _interaction(form) == 200

    assert await models.Feedback.objects.acount() == 0


async def test_a_feedback_press_with_a_forged_value_is_acknowledged_and_ignored(fake_slack):
    for value in ("SIDEWAYS:1", "UP:", "UP:abc", "999999"):
        assert await _interaction(_press(_feedback(value))) == 200

    assert await models.Feedback.objects.acount() == 0
    assert fake_slack.views == []


async def test_ask_a_person_posts_the_thread_once_and_says_so_in_the_thread(fake_slack, settings):
    settings.ESCALATION_ROUTES = {
        "*": escalation_routes.Route(channel_id="CHELP", mention="SHELPERS")
    }
    answer, blocks = await _answered(fake_slack)
    [escalation_block] = [block for block in blocks if block.get("block_id") == "escalation"]
    [button] = escalation_block["elements"]
    assert (button["action_id"], button["value"]) == ("ask_a_person", str(answer.pk))

    ask = {"action_id": "ask_a_person", "type": "button", "value": str(answer.pk)}
    assert await _interaction(_press(ask)) == 200
    assert await _interaction(_press(ask, user="UCOLLEAGUE")) == 200  # asked already
    await run_worker_until_idle()

    [posted] = [m for m in fake_slack.messages.values() if m.channel == "CHELP"]
    assert posted.text.startswith(f"<!subteam^SHELPERS> <@{ASKER}> asked for a person")
    assert "roll back a deploy" in posted.text
    assert f"https://example.slack.com/archives/{CHANNEL}/p{THREAD.replace('.', '')}" in posted.text
    [told] = [m for m in fake_slack.replies(thread_ts=THREAD) if "asked for a person" in m.text]
    assert "<#CHELP>" in told.text
    [note] = fake_slack.ephemeral
    assert note["user"] == "UCOLLEAGUE"
    assert "already been asked" in note["text"]
    escalation = await models.Escalation.objects.aget()
    assert (escalation.state, escalation.requested_by) == ("OPEN", ASKER)
    assert escalation.notified_ts == posted.ts


async def test_a_re_run_after_a_lost_record_posts_nothing_twice(fake_slack, settings):
    """A worker that died after posting and before recording: the re-run finds both posts by
    their metadata and records the one already made."""
    settings.ESCALATION_ROUTES = {"*": escalation_routes.Route(channel_id="CHELP")}
    answer, _ = await _answered(fake_slack)
    ask = {"action_id": "ask_a_person", "type": "button", "value": str(answer.pk)}
    assert await _interaction(_press(ask)) == 200
    await run_worker_until_idle()
    escalation = await models.Escalation.objects.aget()
    [posted] = [m for m in fake_slack.messages.values() if m.channel == "CHELP"]

    def notes() -> list[fake_slack_module.Message]:
        return [m for m in fake_slack.replies(thread_ts=THREAD) if "asked for a person" in m.text]

    # The post was made but its record lost: the re-run records it and tells the asker once.
    await models.Escalation.objects.filter(pk=escalation.pk).aupdate(
        notified_ts="", notified_at=None
    )
    await _notify_again(escalation.pk)
    assert [m.ts for m in fake_slack.messages.values() if m.channel == "CHELP"] == [posted.ts]
    assert len(notes()) == 1
    await escalation.arefresh_from_db()
    assert escalation.notified_ts == posted.ts

    # The post was recorded but the note to the asker never made it: only the note is sent.
    [note] = notes()
    del fake_slack.messages[note.ts]
    await _notify_again(escalation.pk)
    await _notify_again(escalation.pk)
    assert len(notes()) == 1
    assert [m.ts for m in fake_slack.messages.values() if m.channel == "CHELP"] == [posted.ts]


async def _notify_again(escalation_id: int) -> None:
    from application import escalations
    from chatbot import slack_client, slack_escalations

    await escalations.notify(
        escalation_id=escalation_id,
        notifier=slack_escalations.SlackNotifier(client=slack_client.web_client()),
    )


async def test_ask_a_person_goes_to_the_channel_routed_for_the_question(fake_slack, settings):
    settings.ESCALATION_ROUTES = escalation_routes.parse_routes(f"{CHANNEL}=CDEPLOYS,*=CHELP")
    answer, _ = await _answered(fake_slack)

    ask = {"action_id": "ask_a_person", "type": "button", "value": str(answer.pk)}
    assert await _interaction(_press(ask)) == 200
    await run_worker_until_idle()

    assert [
        m.channel for m in fake_slack.messages.values() if "asked for a person about" in m.text
    ] == ["CDEPLOYS"]


def test_routes_that_are_not_pairs_are_refused_with_the_pair_named():
    with pytest.raises(ValueError, match="'C1'"):
        escalation_routes.parse_routes("C1,C2=C3")


def _reply(text: str, *, user: str, ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "channel_type": "channel",
        "channel": CHANNEL,
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": THREAD,
        "team": "T1",
    }


async def test_the_first_reply_by_a_person_in_the_thread_answers_the_request(fake_slack, settings):
    settings.ESCALATION_ROUTES = {"*": escalation_routes.Route(channel_id="CHELP")}
    answer, _ = await _answered(fake_slack)
    ask = {"action_id": "ask_a_person", "type": "button", "value": str(answer.pk)}
    await _interaction(_press(ask))
    await run_worker_until_idle()
    bot_messages = len(fake_slack.messages)

    reply = _reply(
        "Use `make rollback ENV=prod`; ping me if it hangs.", user="UHELPER", ts="1700000000.000900"
    )
    assert (await post_signed(event_callback(reply, event_id="EvHelp"))).status_code == 200
    chatter = _reply("thanks!", user="UBYSTANDER", ts="1700000000.000950")
    await post_signed(event_callback(chatter, event_id="EvChat"))
    await run_worker_until_idle()

    escalation = await models.Escalation.objects.aget()
    assert escalation.state == "ANSWERED"
    assert escalation.answered_by == "UHELPER"
    assert escalation.person_answer.startswith("Use `make rollback ENV=prod`")
    assert len(fake_slack.messages) == bot_messages  # the bot did not answer the person
    assert await models.Question.objects.acount() == 1  # nor took the reply for a question
