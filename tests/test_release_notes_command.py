"""``manage.py release_notes`` end to end: output, the stored run, Slack, and bad input."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from data import models
from tests.fakes import slack_api
from tests.git_repos import Repo

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(django_settings.BASE_DIR)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    repo.git("remote", "add", "origin", "git@github.com:acme/widgets.git")
    repo.commit("Initial commit")
    repo.tag("v1.0.0")
    repo.commit("feat: add CSV export (#3)")
    repo.commit("Fix crash on empty input (#4)")
    repo.commit("feat(api)!: remove the v1 API")
    repo.commit("Release 1.1.0")
    return repo


def _run(*args: str) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("release_notes", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_markdown_notes_are_printed_summarised_and_stored(repo: Repo):
    stdout, stderr = _run("--repo", str(repo.path), "--from", "v1.0.0", "--version", "1.1.0")

    assert stdout.startswith("## 1.1.0 (")
    assert stdout.index("### Breaking changes") < stdout.index("### Features")
    assert "- Fix crash on empty input ([#4](https://github.com/acme/widgets/pull/4))" in stdout
    # One summary line on stderr: commits, groups, model calls, tokens, seconds.
    [line] = stderr.strip().splitlines()
    assert "4 commits: 3 listed, 0 merged into other entries, 1 skipped" in line
    assert "3 groups, 0 model calls, 0 tokens" in line
    row = models.ReleaseNotes.objects.get()
    assert row.markdown == stdout
    assert (row.from_ref, row.to_ref, row.version, row.model) == (
        "v1.0.0",
        "HEAD",
        "1.1.0",
        "offline",
    )
    assert row.to_sha == repo.head()
    assert row.commit_count == 4
    assert row.counts["skip_reasons"] == {"release bookkeeping": 1}
    assert row.data["groups"][0]["group"] == "BREAKING"


def test_json_format_written_to_a_file(repo: Repo, tmp_path: Path):
    output = tmp_path / "notes.json"

    stdout, _ = _run(
        "--repo", str(repo.path), "--from", "v1.0.0", "--format", "json", "--output", str(output)
    )

    assert stdout == ""
    data = json.loads(output.read_text())
    assert [group["title"] for group in data["groups"]] == ["Breaking changes", "Features", "Fixes"]
    assert data["counts"] == {
        "commits": 4,
        "listed": 3,
        "merged": 0,
        "skipped": 1,
        "skip_reasons": {"release bookkeeping": 1},
        "groups": {"BREAKING": 1, "FEATURES": 1, "FIXES": 1},
    }
    assert len(data["commits"]) == 4


def test_notes_are_posted_to_slack_in_pieces_that_fit(tmp_path: Path, settings):
    repo = Repo(tmp_path / "big")
    repo.commit("Initial commit")
    repo.tag("v1")
    for n in range(200):
        repo.commit(f"Fix a rather long described problem number {n} in the billing exporter")
    with slack_api.running() as slack:
        settings.SLACK_API_URL = slack.url

        _, stderr = _run("--repo", str(repo.path), "--from", "v1", "--post-to", "C0RELEASES")

        posts = slack.calls_to("chat.postMessage")
    assert len(posts) > 1
    # Markdown, as Markdown: one markdown block per message, within Slack's limit.
    assert all([block["type"] for block in post.params["blocks"]] == ["markdown"] for post in posts)
    markdown = [post.params["blocks"][0]["text"] for post in posts]
    assert all(len(piece) <= 11_000 for piece in markdown)
    assert all(post.params["channel"] == "C0RELEASES" for post in posts)
    # The first piece starts the thread, the rest go into it; nothing is lost.
    first_ts = "1700000000.000001"
    assert "thread_ts" not in posts[0].params
    assert all(post.params["thread_ts"] == first_ts for post in posts[1:])
    text = "\n".join(markdown)
    assert all(f"problem number {n} in" in text for n in range(200))
    assert text.startswith("## v1..HEAD (")
    assert "posted to C0RELEASES" in stderr
    row = models.ReleaseNotes.objects.get()
    assert row.posted_channel == "C0RELEASES"
    assert row.posted_at is not None


def test_notes_are_kept_when_slack_refuses_them(repo: Repo, settings):
    with slack_api.running() as slack:
        settings.SLACK_API_URL = slack.url
        slack.fail("chat.postMessage", "channel_not_found")

        with pytest.raises(CommandError, match="channel_not_found") as raised:
            _run("--repo", str(repo.path), "--from", "v1.0.0", "--post-to", "C0MISSING")

    row = models.ReleaseNotes.objects.get()
    assert f"stored as release notes #{row.pk}" in str(raised.value)
    assert row.posted_channel == ""
    assert row.posted_at is None


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_DEBUG": "true"}
    return subprocess.run(
        [sys.executable, "manage.py", "release_notes", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.django_db(transaction=False)
def test_bad_input_from_the_command_line_gets_one_line_and_exit_code_2(repo: Repo):
    result = _command("--repo", str(repo.path), "--from", "v9.9.9")

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == ["CommandError: unknown git ref: v9.9.9"]


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize(
    ("where", "from_ref", "message"),
    [
        ("nowhere", "v1.0.0", "not a git repository: "),
        ("repo", "v9.9.9", "unknown git ref: v9.9.9"),
        ("repo", "HEAD", "no commits in HEAD..HEAD"),
        ("plain", "v1.0.0", "not a git repository: "),
    ],
)
def test_bad_input_is_refused_with_exit_code_2(
    repo: Repo, tmp_path: Path, where, from_ref, message
):
    (tmp_path / "plain").mkdir()  # a directory, but not a repository
    paths = {"nowhere": tmp_path / "nowhere", "repo": repo.path, "plain": tmp_path / "plain"}

    with pytest.raises(CommandError, match=message) as raised:
        _run("--repo", str(paths[where]), "--from", from_ref)

    assert raised.value.returncode == 2
    assert "\n" not in str(raised.value)
    assert models.ReleaseNotes.objects.count() == 0


@pytest.mark.django_db(transaction=False)
def test_a_ref_that_looks_like_an_option_is_only_a_ref(repo: Repo, tmp_path: Path):
    target = tmp_path / "written-by-git"

    with pytest.raises(CommandError, match="unknown git ref") as raised:
        _run("--repo", str(repo.path), f"--from=--output={target}")

    assert raised.value.returncode == 2
    assert not target.exists()


@pytest.mark.django_db(transaction=False)
def test_a_corrupt_repository_is_refused_with_one_line_and_exit_code_2(repo: Repo):
    # The tree of one commit in the range is gone: counting works, reading the paths fails.
    tree = repo.git("rev-parse", "HEAD~1^{tree}")
    (repo.path / ".git" / "objects" / tree[:2] / tree[2:]).unlink()

    with pytest.raises(CommandError, match=f"unable to read tree.*{tree[:7]}") as raised:
        _run("--repo", str(repo.path), "--from", "v1.0.0")

    assert raised.value.returncode == 2
    assert "\n" not in str(raised.value)
    assert models.ReleaseNotes.objects.count() == 0


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--version", "9" * 101, "version is too long: 101 characters, at most 100"),
        ("--post-to", "C" * 51, "posted channel is too long: 51 characters, at most 50"),
        ("--output", "missing/notes.md", "--output directory does not exist: "),
        ("--output", ".", "--output is a directory: "),
    ],
)
def test_arguments_that_cannot_be_stored_or_written_are_refused_before_any_work(
    repo: Repo, tmp_path: Path, option, value, message
):
    if option == "--output":
        value = str(tmp_path / value)

    with pytest.raises(CommandError, match=message) as raised:
        _run("--repo", str(repo.path), "--from", "v1.0.0", option, value)

    assert raised.value.returncode == 2
    assert "\n" not in str(raised.value)
    assert models.ReleaseNotes.objects.count() == 0


def test_notes_posted_to_slack_page_nobody(tmp_path: Path, settings):
    repo = Repo(tmp_path / "mentions")
    repo.commit("Initial commit")
    repo.tag("v1")
    repo.commit("Fix <!here> alerts and stop pinging @channel on deploys")
    with slack_api.running() as slack:
        settings.SLACK_API_URL = slack.url

        _run("--repo", str(repo.path), "--from", "v1", "--post-to", "C0RELEASES")

        [post] = slack.calls_to("chat.postMessage")
    markdown = post.params["blocks"][0]["text"]
    assert "stop pinging @\u2060channel" in markdown
    assert "<!here>" not in markdown
