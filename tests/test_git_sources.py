"""Git sources: a local bare repository, fetched into the cache and re-read by its diffs."""

import io
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from application.knowledge import sources
from data import models
from domain.knowledge import git_mirror
from tests.git_repos import Repo

pytestmark = pytest.mark.django_db(transaction=True)

Outcome = models.DocumentationSource.SyncOutcome
TEMPLATE = "https://git.example.com/acme/docs/blob/{ref}/{path}"


class Remote:
    """A working repository and the bare repository it pushes to (the source's location)."""

    def __init__(self, root: Path) -> None:
        self.work = Repo(root / "work")
        self.bare = root / "docs.git"
        self.work.commit(
            "Docs",
            files={
                "README.md": "# Readme\n\nNot under docs.",
                "docs/setup.md": "# Setup\n\n## Database\n\nPoint DATABASE_URL at PostgreSQL.",
                "docs/vpn.md": "# VPN\n\nUse the WireGuard client.",
                "docs/old.md": "# Old\n\nSoon gone.",
                "docs/_build/setup.md": "# Built copy\n\nSkipped.",
            },
        )
        subprocess.run(
            ["git", "clone", "--quiet", "--bare", str(self.work.path), str(self.bare)], check=True
        )
        self.work.git("remote", "add", "origin", str(self.bare))

    def push(self, message: str, files: dict[str, str], *, remove: tuple[str, ...] = ()) -> None:
        for name in remove:
            self.work.git("rm", "--quiet", name)
        self.work.commit(message, files=files)
        self.work.git("push", "--quiet", "origin", "main")


@pytest.fixture
def remote(tmp_path, settings):
    settings.CHATBOT_SOURCES_DIR = tmp_path / "cache"
    return Remote(tmp_path)


async def _sync(remote: Remote, **options: str) -> sources.SyncReport:
    return await sources.add_and_sync(
        name="docs",
        kind=sources.Kind.GIT,
        location=str(remote.bare),
        git_ref=options.get("ref", "main"),
        git_subdir="docs",
        url_template=TEMPLATE,
    )


async def _documents() -> dict[str, str]:
    return {
        path: url
        async for path, url in models.Document.objects.order_by("path").values_list("path", "url")
    }


async def _text(path: str) -> str:
    texts = [
        text
        async for text in models.Chunk.objects.filter(document__path=path).values_list(
            "text", flat=True
        )
    ]
    return " ".join(texts)


async def test_a_git_source_reads_its_folder_and_links_to_the_repositorys_web_view(remote):
    result = await _sync(remote)

    assert result.outcome == Outcome.OK
    assert await _documents() == {
        "old.md": "https://git.example.com/acme/docs/blob/main/docs/old.md",
        "setup.md": "https://git.example.com/acme/docs/blob/main/docs/setup.md",
        "vpn.md": "https://git.example.com/acme/docs/blob/main/docs/vpn.md",
    }
    assert "DATABASE_URL" in await _text("setup.md")
    source = await models.DocumentationSource.objects.aget(name="docs")
    assert source.synced_commit == remote.work.head()
    assert (source.last_sync_outcome, source.last_sync_pages) == (Outcome.OK, 3)


async def test_only_the_files_changed_since_the_last_synced_commit_are_read(remote, monkeypatch):
    await _sync(remote)
    remote.push(
        "Edit",
        {"docs/vpn.md": "# VPN\n\nUse OpenVPN now.", "docs/new.md": "# New\n\nFresh."},
        remove=("docs/old.md",),
    )
    read: list[str] = []
    original = git_mirror.read

    async def spy(**kwargs: object) -> bytes:
        read.append(str(kwargs["path"]))
        return await original(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(git_mirror, "read", spy)

    result = await _sync(remote)

    assert sorted(read) == ["docs/new.md", "docs/vpn.md"]
    assert result.report is not None
    report = result.report
    assert (report.added, report.updated, report.unchanged, report.removed) == (1, 1, 1, 1)
    assert sorted(await _documents()) == ["new.md", "setup.md", "vpn.md"]
    assert "OpenVPN" in await _text("vpn.md")


async def test_a_missing_ref_or_repository_is_reported_and_changes_nothing(remote, tmp_path):
    await _sync(remote)

    missing_ref = await _sync(remote, ref="no-such-branch")

    assert missing_ref.outcome == Outcome.FAILED
    assert missing_ref.error == "the repository has no branch or tag 'no-such-branch'"
    assert sorted(await _documents()) == ["old.md", "setup.md", "vpn.md"]
    source = await models.DocumentationSource.objects.aget(name="docs")
    assert source.last_sync_errors == [
        {"path": "", "reason": "the repository has no branch or tag 'no-such-branch'"}
    ]

    await models.DocumentationSource.objects.filter(pk=source.pk).aupdate(
        location=str(tmp_path / "moved.git"), git_ref="main"
    )
    gone = await sources.sync(source_id=source.pk)
    assert gone.outcome == Outcome.FAILED
    assert gone.error
    assert sorted(await _documents()) == ["old.md", "setup.md", "vpn.md"]


async def test_a_bad_file_is_reported_and_keeps_its_last_good_version(remote, settings):
    await _sync(remote)
    settings.CHATBOT_DOCS_MAX_FILE_BYTES = 1_000
    remote.work.path.joinpath("docs/vpn.md").write_bytes(b"# VPN\n\nCaf\xe9 client.\n")
    remote.work.git("add", "docs/vpn.md")
    remote.push("Bad edits", {"docs/setup.md": "# Setup\n\n" + "long text " * 200})

    result = await _sync(remote)

    assert result.outcome == Outcome.PARTIAL
    assert result.report is not None
    reasons = {failure.path: failure.reason for failure in result.report.failures}
    assert reasons["vpn.md"].startswith("not UTF-8 text")
    assert reasons["setup.md"].startswith("too large")
    assert "WireGuard" in await _text("vpn.md")
    assert "DATABASE_URL" in await _text("setup.md")

    settings.CHATBOT_DOCS_MAX_FILE_BYTES = 2_000_000
    retried = await _sync(remote)  # unchanged since, but failed last time: read again
    assert retried.report is not None
    assert retried.report.updated == 1
    assert "long text" in await _text("setup.md")


def test_ingest_docs_follows_a_git_repository(remote):
    out = io.StringIO()

    call_command(
        "ingest_docs",
        "--git",
        str(remote.bare),
        "--ref",
        "main",
        "--subdir",
        "docs",
        "--source",
        "docs",
        stdout=out,
        stderr=io.StringIO(),
    )

    assert out.getvalue().startswith("3 added, 0 updated, 0 unchanged, 0 removed, 0 failed")
    with pytest.raises(CommandError, match="no branch or tag 'v9'"):
        call_command(
            "ingest_docs",
            "--git",
            str(remote.bare),
            "--ref",
            "v9",
            "--source",
            "docs",
            stdout=io.StringIO(),
        )
    assert models.Document.objects.count() == 3
