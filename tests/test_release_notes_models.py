"""Release notes with models (pydantic-ai FunctionModel): better entries, safe fallbacks."""

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ToolCallPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from application.release_notes import commit_classifier, generating, highlights_writer, improving
from data import models
from tests.git_repos import Repo

pytestmark = pytest.mark.django_db(transaction=True)


def _prompt(messages: list[ModelMessage]) -> str:
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    raise AssertionError("no user prompt")


def _ids(messages: list[ModelMessage]) -> list[str]:
    return re.findall(r"^id: (\S+)$", _prompt(messages), re.MULTILINE)


def _answer(info: AgentInfo, args: dict) -> ModelResponse:
    return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])


def _verdicts(
    info: AgentInfo, ids: list[str], group: str, summary: Callable[[str], str]
) -> ModelResponse:
    """The classifier's answer: every id in ``group``, summarised by ``summary(id)``."""
    commits = [{"id": i, "group": group, "summary": summary(i)} for i in ids]
    return _answer(info, {"commits": commits})


def classify_as_features(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return _verdicts(info, _ids(messages), "FEATURES", lambda i: f"Clearer summary for {i}")


def write_highlights(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    assert "Fix crash when saving drafts" in _prompt(messages)
    return _answer(info, {"paragraph": "This release makes drafts safe and adds clearer things."})


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    repo.commit("Initial commit")
    repo.tag("v1")
    repo.commit("Fix crash when saving drafts (#1)")
    repo.commit("feat!: require a workspace for every project")
    for word in ("wip", "stuff", "misc", "more", "tmp", "cleanup"):
        repo.commit(word)
    return repo


@pytest.fixture
def model_configured(settings):
    settings.CHATBOT_MODEL = "test"
    settings.CHATBOT_CLASSIFIER_MODEL = "test"
    settings.CHATBOT_RELEASE_NOTES_BATCH_SIZE = 2
    settings.CHATBOT_RELEASE_NOTES_CONCURRENCY = 3
    settings.CHATBOT_MODEL_RETRIES = 1
    settings.CHATBOT_MODEL_RETRY_BACKOFF = 0.0
    return settings


async def _generate(repo: Repo, **kwargs) -> generating.Result:
    return await generating.generate(
        repo=repo.path, from_ref="v1", version="1.1", now=timezone.now(), **kwargs
    )


@pytest.mark.usefixtures("model_configured")
async def test_model_rewrites_unclear_commits_and_writes_highlights(repo: Repo):
    with (
        commit_classifier.agent.override(model=FunctionModel(classify_as_features)),
        highlights_writer.agent.override(model=FunctionModel(write_highlights)),
    ):
        result = await _generate(repo)

    assert "### Highlights\n\nThis release makes drafts safe" in result.markdown
    features = next(g for g in result.data["groups"] if g["group"] == "FEATURES")
    assert len(features["entries"]) == 6
    assert all(e["description"].startswith("Clearer summary for") for e in features["entries"])
    # Clear commits keep their own words; breaking changes stay breaking.
    assert "- Fix crash when saving drafts (#1)" in result.markdown
    assert result.data["groups"][0]["group"] == "BREAKING"
    assert result.batches == 3
    assert result.model_calls == 4  # three batches and the highlights
    assert result.input_tokens > 0
    row = await models.ReleaseNotes.objects.aget(pk=result.release_notes_id)
    assert row.model == "test"
    assert row.model_calls == 4
    runs = [
        (run.agent, run.outcome)
        async for run in models.AgentRun.objects.filter(release_notes=row).order_by("id")
    ]
    assert sorted(runs) == [
        ("commit_classifier", "OK"),
        ("commit_classifier", "OK"),
        ("commit_classifier", "OK"),
        ("highlights_writer", "OK"),
    ]


def leave_out_stuff(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Answers every batch well, except the one with "stuff", where one commit is missing."""
    prompt = _prompt(messages)
    ids = _ids(messages)
    if "subject: stuff" in prompt:
        ids = ids[:1]
    return _verdicts(info, ids, "FIXES", lambda i: f"Fixed {i}")


def no_highlights(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return _answer(info, {"paragraph": "short"})  # fails validation every time


@pytest.mark.usefixtures("model_configured")
async def test_invalid_model_output_falls_back_to_offline_for_that_batch_only(repo: Repo):
    with (
        commit_classifier.agent.override(model=FunctionModel(leave_out_stuff)),
        highlights_writer.agent.override(model=FunctionModel(no_highlights)),
    ):
        result = await _generate(repo)

    descriptions = [
        entry["description"] for group in result.data["groups"] for entry in group["entries"]
    ]
    # The batch with "stuff" (and "wip") kept the offline text; the others were rewritten.
    assert "Stuff" in descriptions
    assert "Wip" in descriptions
    assert sum(d.startswith("Fixed ") for d in descriptions) == 4
    # The offline highlights stand in for the writer's invalid paragraph.
    assert "### Highlights\n\nThis release brings 1 breaking change" in result.markdown
    outcomes = sorted(
        [
            (run.agent, run.outcome)
            async for run in models.AgentRun.objects.filter(
                release_notes_id=result.release_notes_id
            )
        ]
    )
    assert outcomes == [
        ("commit_classifier", "INVALID_OUTPUT"),
        ("commit_classifier", "OK"),
        ("commit_classifier", "OK"),
        ("highlights_writer", "INVALID_OUTPUT"),
    ]
    # Invalid output goes back to the model twice (each agent's own retries): 3 + 1 + 1 calls
    # for the classifier, 3 for the writer. The runner does not try such a run again.
    assert result.model_calls == 8


async def test_concurrency_limit_is_respected(tmp_path: Path, model_configured):
    model_configured.CHATBOT_RELEASE_NOTES_BATCH_SIZE = 1
    model_configured.CHATBOT_RELEASE_NOTES_CONCURRENCY = 3
    model_configured.CHATBOT_MODEL = "offline"  # classifier only
    repo = Repo(tmp_path / "repo")
    repo.commit("Initial commit")
    repo.tag("v1")
    for n in range(10):
        repo.commit(f"wip {n}")
    in_flight = 0
    most = 0

    async def slow_classifier(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return classify_as_features(messages, info)

    with commit_classifier.agent.override(model=FunctionModel(slow_classifier)):
        result = await _generate(repo)

    assert result.batches == 10
    assert most == 3
    assert result.model_calls == 10


@pytest.mark.usefixtures("model_configured")
async def test_offline_flag_uses_no_model_even_when_one_is_configured(repo: Repo):
    calls = 0

    def counting(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        nonlocal calls
        calls += 1
        return classify_as_features(messages, info)

    with (
        commit_classifier.agent.override(model=FunctionModel(counting)),
        highlights_writer.agent.override(model=FunctionModel(counting)),
    ):
        result = await _generate(repo, offline=True)

    assert calls == 0
    assert result.model == "offline"
    assert result.model_calls == 0
    assert await models.AgentRun.objects.acount() == 0


def test_unclear_entries_are_spread_evenly_over_whole_rounds():
    import datetime as dt

    from domain.release_notes import classification as cc

    entry = cc.Entry(
        sha="0" * 40,
        shas=("0" * 40,),
        group=cc.Group.OTHER,
        scope="",
        description="wip",
        breaking_note="",
        pr=None,
        authors=(),
        authored_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        clear=False,
        subject="wip",
        body="",
        paths=(),
    )

    batches = improving.plan_batches(entries=[entry] * 1_275, size=25, concurrency=8)

    # 51 batches of 25 would need 7 rounds with 5 slots idle in the last one.
    assert len(batches) == 56
    assert max(len(batch) for batch in batches) <= 25
    assert sum(len(batch) for batch in batches) == 1_275


async def test_model_errors_never_fail_the_run(repo: Repo, model_configured):
    def broken(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise RuntimeError("provider exploded")

    with (
        commit_classifier.agent.override(model=FunctionModel(broken)),
        highlights_writer.agent.override(model=FunctionModel(broken)),
    ):
        result = await _generate(repo)

    assert "- Wip (" in result.markdown
    outcomes = {
        run.outcome
        async for run in models.AgentRun.objects.filter(release_notes_id=result.release_notes_id)
    }
    assert outcomes == {"ERROR"}


def summaries_over_lines(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return _verdicts(info, _ids(messages), "FIXES", lambda i: f"Fix drafts\n\n# Upgrade {i}\n- now")


def highlights_with_a_heading(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return _answer(info, {"paragraph": "# Big release\n\n- drafts are safe\n- more things"})


@pytest.mark.usefixtures("model_configured")
async def test_model_text_stays_on_its_line_and_highlights_with_blocks_fall_back(repo: Repo):
    with (
        commit_classifier.agent.override(model=FunctionModel(summaries_over_lines)),
        highlights_writer.agent.override(model=FunctionModel(highlights_with_a_heading)),
    ):
        result = await _generate(repo)

    lines = result.markdown.splitlines()
    assert not [line for line in lines if line.startswith("# ") or line.startswith("  -")]
    assert any(line.startswith("- Fix drafts \\# Upgrade ") for line in lines)
    # Sent back for a retry, then the offline sentence stands in.
    assert "### Highlights\n\nThis release brings 1 breaking change" in result.markdown
    writer = await models.AgentRun.objects.aget(
        release_notes_id=result.release_notes_id, agent="highlights_writer"
    )
    assert writer.outcome == "INVALID_OUTPUT"


async def test_the_writer_works_alongside_the_classifier_on_entries_that_are_not_vague(
    tmp_path: Path, model_configured
):
    repo = Repo(tmp_path / "repo")
    repo.commit("Initial commit")
    repo.tag("v1")
    repo.commit("fix: stuff")
    repo.commit("feat!: drop v1")
    repo.commit("Add CSV export to the reports page (#3)")
    writer_started = asyncio.Event()
    writer_prompts: list[str] = []

    async def classifier_waiting_for_the_writer(
        messages: list[ModelMessage], info: AgentInfo
    ) -> ModelResponse:
        # Only answers once the writer is running: a writer that waited for the classifier
        # would make every batch time out here and fall back.
        await asyncio.wait_for(writer_started.wait(), timeout=5)
        return classify_as_features(messages, info)

    async def writer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        writer_started.set()
        writer_prompts.append(_prompt(messages))
        return _answer(info, {"paragraph": "Reports export to CSV, and v1 is gone for good."})

    with (
        commit_classifier.agent.override(model=FunctionModel(classifier_waiting_for_the_writer)),
        highlights_writer.agent.override(model=FunctionModel(writer)),
    ):
        result = await _generate(repo)

    assert "Reports export to CSV, and v1 is gone for good." in result.markdown
    assert "Clearer summary for" in result.markdown  # the classifier's answers were used
    [prompt] = writer_prompts
    assert "Drop v1" in prompt  # short but meaningful, and breaking
    assert "Add CSV export to the reports page" in prompt
    assert "Stuff" not in prompt  # vague: about to be rewritten, nothing to build on
