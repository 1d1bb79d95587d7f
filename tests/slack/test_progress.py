"""The steps above a streamed answer: searched, read (with the sections), writing → wrote."""

import pytest

from data import models
from tests.slack.conftest import event_callback, mention, post_signed, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)


def _steps(chunks: list[dict]) -> list[tuple[str, str, str]]:
    return [
        (chunk["id"], chunk["status"], chunk["title"])
        for chunk in chunks
        if chunk["type"] == "task_update"
    ]


async def _rollback_section_url() -> str:
    citation = await models.Citation.objects.aget()
    return citation.url


async def test_the_answer_opens_with_its_steps_and_ends_with_the_cited_sections(fake_slack):
    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    [start] = [call.params for call in fake_slack.calls_to("chat.startStream")]
    [stop] = [call.params for call in fake_slack.calls_to("chat.stopStream")]
    url = await _rollback_section_url()
    assert start["task_display_mode"] == "timeline"
    assert _steps(start["chunks"]) == [
        ("search", "complete", "Searched the documentation"),
        ("read", "complete", "Read 1 section"),
        ("write", "in_progress", "Writing the answer"),
    ]
    read = next(chunk for chunk in start["chunks"] if chunk.get("id") == "read")
    assert read["sources"] == [{"type": "url", "url": url, "text": "Deploying: Rollbacks"}]
    assert start["chunks"][-1]["type"] == "markdown_text"  # the answer after its steps
    assert _steps(stop["chunks"]) == [("write", "complete", "Wrote the answer")]
    wrote = next(chunk for chunk in stop["chunks"] if chunk.get("type") == "task_update")
    assert [source["url"] for source in wrote["sources"]] == [url]


async def test_a_streaming_model_shows_the_sections_search_found_before_it_finishes(
    fake_slack, fake_openai
):
    fake_openai.stream_pause = 0.1

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    start = fake_slack.calls_to("chat.startStream")[0].params
    assert _steps(start["chunks"])[:2] == [
        ("search", "complete", "Searched the documentation"),
        ("read", "complete", "Read 1 section"),
    ]
    read = next(chunk for chunk in start["chunks"] if chunk.get("id") == "read")
    assert [source["url"] for source in read["sources"]] == [await _rollback_section_url()]
    assert len(fake_slack.calls_to("chat.appendStream")) >= 1  # written while shown
    stop = fake_slack.calls_to("chat.stopStream")[0].params
    assert _steps(stop["chunks"]) == [("write", "complete", "Wrote the answer")]


async def test_where_streaming_is_refused_the_answer_is_posted_whole(fake_slack):
    fake_slack.refuse["chat.startStream"] = "not_allowed_token_type"

    await post_signed(event_callback(mention("how do I roll back a deploy?")))
    await run_worker_until_idle()

    [reply] = fake_slack.replies(thread_ts="1700000000.000100")
    assert not reply.streamed
    assert "make rollback" in reply.text
    assert fake_slack.calls_to("assistant.threads.setStatus")  # the status was the progress
