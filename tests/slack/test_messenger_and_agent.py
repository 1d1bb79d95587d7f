"""Delivery details and the answer agent's own checks, below the full Slack flow."""

import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from application.answering import agent as answer_agent
from application.answering import messenger
from chatbot import messengers, slack_client
from tests.slack.conftest import ASKER, CHANNEL

pytestmark = pytest.mark.django_db(transaction=True)

THREAD = "1700000000.000100"
CONVERSATION = messenger.Conversation(
    team_id="T1", channel_id=CHANNEL, thread_ts=THREAD, message_ts=THREAD, asker_id=ASKER
)


def _answer(text: str) -> messenger.OutgoingAnswer:
    return messenger.OutgoingAnswer(
        question_id=3,
        answer_id=7,
        text=text,
        covered=True,
        sources=[messenger.Source(title="Deploying", heading="Deploying > Rollbacks", url="u")],
    )


async def _posted(ts: str) -> None:
    return None


async def test_a_long_answer_is_split_into_several_messages_and_nothing_is_lost(fake_slack):
    paragraphs = [f"Paragraph {n}: " + "word " * 400 for n in range(15)]  # ~30,000 characters
    slack = messengers.SlackMessenger(client=slack_client.web_client(), conversation=CONVERSATION)

    await slack.deliver(answer=_answer("\n\n".join(paragraphs)), existing_ref="", on_posted=_posted)

    replies = fake_slack.replies(thread_ts=THREAD)
    assert len(replies) >= 3
    assert all(len(reply.text) <= messengers.MARKDOWN_BLOCK_LIMIT for reply in replies)
    assert all(f"Paragraph {n}:" in "".join(r.text for r in replies) for n in range(15))
    assert [any(b["type"] == "context_actions" for b in r.blocks) for r in replies][-1] is True
    assert not any(any(b["type"] == "context_actions" for b in r.blocks) for r in replies[:-1])


async def test_a_stream_left_open_by_a_dead_run_is_stopped_and_completed_with_the_whole_answer(
    fake_slack,
):
    client = slack_client.web_client()
    orphan = await client.chat_stream(channel=CHANNEL, thread_ts=THREAD, buffer_size=1)
    await orphan.append(markdown_text="Paragraph 0: wo")  # then the job died
    assert orphan.ts is not None
    paragraphs = [f"Paragraph {n}: " + "word " * 400 for n in range(15)]
    posted: list[str] = []

    async def record(ts: str) -> None:
        posted.append(ts)

    slack = messengers.SlackMessenger(client=client, conversation=CONVERSATION)
    ts = await slack.deliver(
        answer=_answer("\n\n".join(paragraphs)), existing_ref=orphan.ts, on_posted=record
    )

    assert ts == orphan.ts
    methods = [call.method for call in fake_slack.calls if call.params.get("ts") == orphan.ts]
    assert methods[-2:] == ["chat.stopStream", "chat.update"]
    first, *rest = fake_slack.replies(thread_ts=THREAD)
    assert first.ts == orphan.ts
    assert posted == [reply.ts for reply in rest]
    assert len(rest) >= 2
    text = "".join(reply.text for reply in [first, *rest])
    assert all(f"Paragraph {n}:" in text for n in range(15))
    assert [any(b["type"] == "context_actions" for b in r.blocks) for r in [first, *rest]][
        -1
    ] is True


async def test_an_answer_whose_message_could_not_be_recorded_is_still_finished(fake_slack):
    async def database_down(ts: str) -> None:
        raise OSError("the database is unreachable")

    slack = messengers.SlackMessenger(client=slack_client.web_client(), conversation=CONVERSATION)
    ts = await slack.deliver(
        answer=_answer("Run make rollback. " * 60), existing_ref="", on_posted=database_down
    )

    [reply] = fake_slack.replies(thread_ts=THREAD)
    assert ts == reply.ts  # the caller records it with the delivery
    assert reply.stopped
    assert reply.text == ("Run make rollback. " * 60)
    assert any(b["type"] == "context_actions" for b in reply.blocks)


async def test_slack_server_errors_are_retried(fake_slack):
    fake_slack.server_errors["chat.startStream"] = 1
    slack = messengers.SlackMessenger(client=slack_client.web_client(), conversation=CONVERSATION)

    await slack.deliver(answer=_answer("Short answer."), existing_ref="", on_posted=_posted)

    assert len(fake_slack.calls_to("chat.startStream")) == 2
    assert len(fake_slack.replies(thread_ts=THREAD)) == 1


async def test_a_citation_of_something_never_retrieved_is_sent_back_to_the_model():
    passage = answer_agent.Passage(
        chunk_id=5, title="Deploying", heading_path="", url="", text="Run make rollback.", score=1
    )

    async def search(*, query: str, limit: int) -> list[answer_agent.Passage]:
        return [passage]

    attempts: list[list[int]] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returned = [
            part
            for message in messages
            for part in getattr(message, "parts", [])
            if isinstance(part, ToolReturnPart) and part.tool_name == "search_docs"
        ]
        if not returned:
            return ModelResponse(parts=[ToolCallPart("search_docs", {"query": "rollback"})])
        cited = [999] if not attempts else [5]
        attempts.append(cited)
        args = {"answer": "Run make rollback.", "cited_chunk_ids": cited, "covered": True}
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])

    result = await answer_agent.agent.run(
        "how do I roll back?",
        model=FunctionModel(model),
        deps=answer_agent.AnswerDeps(search=search),
    )

    assert attempts == [[999], [5]]
    assert result.output.cited_chunk_ids == [5]
