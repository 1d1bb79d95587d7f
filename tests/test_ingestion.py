"""Ingestion is incremental and a bad file never spoils a run."""

import dataclasses
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest
from django.test import override_settings

from application.knowledge import ingestion, reading, storing
from data import models
from domain.knowledge import chunking, search

pytestmark = pytest.mark.django_db(transaction=True)

GUIDE = {
    "setup.md": "# Setup\n\nInstall it.\n\n## Database\n\nPoint DATABASE_URL at PostgreSQL.\n",
    "slack/connecting.md": "# Connecting Slack\n\nPaste the Slack app's signing secret.\n",
    "reference/settings.rst": "Settings\n========\n\nEvery setting comes from the environment.\n",
    "faq.html": "<h1>FAQ</h1><h2 id='why'>Why</h2><p>Because colleagues ask the same things.</p>",
}


@dataclasses.dataclass
class Recorder:
    """Collects what ingestion reports as it goes, like the progress bar would show."""

    total: int = 0
    seen: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)

    def started(self, *, total: int) -> None:
        self.total = total

    def advanced(self, *, path: str) -> None:
        self.seen.append(path)

    def failed(self, *, path: str, reason: str) -> None:
        self.problems.append(path)


def _write(root: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


async def _chunks(path: str) -> list[tuple[int, str, str]]:
    rows = models.Chunk.objects.filter(document__path=path).order_by("position", "id")
    return [(c.pk, c.heading_path, c.text) async for c in rows]


async def test_first_run_adds_every_document_with_its_sections(tmp_path):
    _write(tmp_path, GUIDE)

    report = await ingestion.ingest(
        paths=[tmp_path], source="guide", base_url="https://bot.example.com/docs/"
    )

    assert (report.added, report.updated, report.unchanged, report.removed) == (4, 0, 0, 0)
    assert report.failures == []
    assert report.chunks == 5
    assert [(h, t) for _id, h, t in await _chunks("setup.md")] == [
        ("Setup", "Install it."),
        ("Setup > Database", "Point DATABASE_URL at PostgreSQL."),
    ]
    [result] = await search.search(query="signing secret", limit=1)
    assert result.path == "slack/connecting.md"
    assert result.url == "https://bot.example.com/docs/slack/connecting.md#connecting-slack"
    source = await models.DocumentationSource.objects.aget(name="guide")
    assert source.root == str(tmp_path.resolve())


async def test_unchanged_files_are_skipped_and_keep_their_chunks(tmp_path):
    _write(tmp_path, GUIDE)
    await ingestion.ingest(paths=[tmp_path], source="guide")
    before = await _chunks("setup.md")

    report = await ingestion.ingest(paths=[tmp_path], source="guide")

    assert (report.added, report.updated, report.unchanged, report.chunks) == (0, 0, 4, 0)
    assert await _chunks("setup.md") == before


async def test_a_changed_file_is_rechunked_and_found_by_its_new_text(tmp_path):
    _write(tmp_path, GUIDE)
    await ingestion.ingest(paths=[tmp_path], source="guide")
    _write(tmp_path, {"setup.md": "# Setup\n\nRun make run and wait for the green light.\n"})

    report = await ingestion.ingest(paths=[tmp_path], source="guide")

    assert (report.added, report.updated, report.unchanged) == (0, 1, 3)
    assert [(h, t) for _id, h, t in await _chunks("setup.md")] == [
        ("Setup", "Run make run and wait for the green light.")
    ]
    [result] = await search.search(query="green light", limit=1)
    assert result.path == "setup.md"
    assert await search.search(query="DATABASE_URL PostgreSQL") == []


class _Interrupted(Exception):
    pass


@dataclasses.dataclass
class _DiesAfterFirstFile(Recorder):
    def advanced(self, *, path: str) -> None:
        super().advanced(path=path)
        raise _Interrupted(path)


async def test_what_a_run_wrote_before_it_died_is_already_found(tmp_path):
    _write(tmp_path, GUIDE)
    await ingestion.ingest(paths=[tmp_path], source="guide")
    _write(tmp_path, {"faq.html": "<h1>FAQ</h1><p>Ask in the green light channel.</p>"})
    _write(tmp_path, {"setup.md": "# Setup\n\nRun make run and wait for the green light.\n"})

    with pytest.raises(_Interrupted):
        await ingestion.ingest(paths=[tmp_path], source="guide", progress=_DiesAfterFirstFile())

    [result] = await search.search(query="channel", limit=1)
    assert result.path == "faq.html"
    assert [r.path for r in await search.search(query="install")] == ["setup.md"]


async def test_removed_files_are_deleted_only_with_prune(tmp_path):
    _write(tmp_path, GUIDE)
    await ingestion.ingest(paths=[tmp_path], source="guide")
    (tmp_path / "faq.html").unlink()

    kept = await ingestion.ingest(paths=[tmp_path], source="guide")
    pruned = await ingestion.ingest(paths=[tmp_path], source="guide", prune=True)

    assert kept.removed == 0
    assert pruned.removed == 1
    paths = [p async for p in models.Document.objects.order_by("path").values_list("path")]
    assert paths == [("reference/settings.rst",), ("setup.md",), ("slack/connecting.md",)]
    assert await search.search(query="colleagues ask the same things") == []


async def test_pruning_one_source_leaves_other_sources_alone(tmp_path):
    _write(tmp_path / "guide", GUIDE)
    _write(tmp_path / "handbook", {"holidays.md": "# Holidays\n\nBook them early.\n"})
    await ingestion.ingest(paths=[tmp_path / "guide"], source="guide")
    await ingestion.ingest(paths=[tmp_path / "handbook"], source="handbook")

    report = await ingestion.ingest(paths=[tmp_path / "guide"], source="guide", prune=True)

    assert report.removed == 0
    assert await models.Document.objects.filter(source__name="handbook").acount() == 1


async def _paths(source: str = "guide") -> list[str]:
    rows = models.Document.objects.filter(source__name=source).order_by("path")
    return [path async for path in rows.values_list("path", flat=True)]


TREE = {
    "a.md": "# A\n\nAlpha.\n",
    "sub/b.md": "# B\n\nBravo.\n",
    "sub/c.md": "# C\n\nCharlie.\n",
    "subway/d.md": "# D\n\nDelta.\n",
}


async def test_ingesting_one_file_of_a_source_updates_it_and_keeps_the_rest(tmp_path):
    _write(tmp_path, TREE)
    await ingestion.ingest(paths=[tmp_path], source="guide")
    _write(tmp_path, {"sub/b.md": "# B\n\nBravo, revised.\n"})

    report = await ingestion.ingest(paths=[tmp_path / "sub" / "b.md"], source="guide", prune=True)

    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 1, 0, 0)
    assert await _paths() == ["a.md", "sub/b.md", "sub/c.md", "subway/d.md"]
    assert [t for _id, _h, t in await _chunks("sub/b.md")] == ["Bravo, revised."]
    source = await models.DocumentationSource.objects.aget(name="guide")
    assert source.root == str(tmp_path.resolve())


async def test_pruning_a_subfolder_deletes_only_the_documents_gone_from_it(tmp_path):
    _write(tmp_path, TREE)
    await ingestion.ingest(paths=[tmp_path], source="guide")
    for gone in ("a.md", "sub/c.md", "subway/d.md"):
        (tmp_path / gone).unlink()

    report = await ingestion.ingest(paths=[tmp_path / "sub"], source="guide", prune=True)

    assert (report.unchanged, report.removed) == (1, 1)
    assert await _paths() == ["a.md", "sub/b.md", "subway/d.md"]


async def test_a_path_outside_the_source_root_is_refused_unless_the_source_moves(tmp_path):
    _write(tmp_path / "old", TREE)
    _write(tmp_path / "new", {"a.md": "# A\n\nAlpha, moved.\n"})
    await ingestion.ingest(paths=[tmp_path / "old"], source="guide")

    with pytest.raises(ingestion.PathOutsideSource, match="outside the root of source 'guide'"):
        await ingestion.ingest(paths=[tmp_path / "new"], source="guide", prune=True)
    assert await _paths() == ["a.md", "sub/b.md", "sub/c.md", "subway/d.md"]
    assert [t for _id, _h, t in await _chunks("a.md")] == ["Alpha."]

    report = await ingestion.ingest(paths=[tmp_path / "new"], source="guide", prune=True, move=True)

    assert (report.updated, report.removed) == (1, 3)
    assert await _paths() == ["a.md"]
    source = await models.DocumentationSource.objects.aget(name="guide")
    assert source.root == str((tmp_path / "new").resolve())


async def _urls() -> list[str]:
    rows = models.Document.objects.order_by("path").values_list("url", flat=True)
    return [url async for url in rows]


async def test_ingesting_again_without_a_base_url_keeps_the_links(tmp_path):
    _write(tmp_path, {"a.md": "# A\n\nAlpha.\n", "b.md": "# B\n\nBravo.\n"})
    await ingestion.ingest(paths=[tmp_path], source="guide", base_url="https://x.test/guide/")
    _write(tmp_path, {"b.md": "# B\n\nBravo, revised.\n"})

    await ingestion.ingest(paths=[tmp_path], source="guide")

    assert await _urls() == ["https://x.test/guide/a.md", "https://x.test/guide/b.md"]
    [result] = await search.search(query="bravo revised", limit=1)
    assert result.url == "https://x.test/guide/b.md#b"

    await ingestion.ingest(paths=[tmp_path], source="guide", base_url="")

    assert await _urls() == ["", ""]


@override_settings(CHATBOT_DOCS_MAX_FILE_BYTES=2_000)
async def test_bad_files_mid_run_are_reported_and_the_rest_is_ingested(tmp_path):
    _write(
        tmp_path,
        {
            **GUIDE,
            "m-latin1.md": "# Café\n\nCrème brûlée.\n".encode("latin-1"),
            "n-huge.md": "# Huge\n\n" + "word " * 1_000,
            "o-binary.txt": b"\x00\x01\x02binary",
            "notes.pdf": b"%PDF-1.7 not documentation",
        },
    )
    progress = Recorder()

    report = await ingestion.ingest(paths=[tmp_path], source="guide", progress=progress)

    assert report.added == 4
    reasons = {failure.path: failure.reason for failure in report.failures}
    assert set(reasons) == {"m-latin1.md", "n-huge.md", "o-binary.txt"}
    assert reasons["m-latin1.md"].startswith("not UTF-8 text")
    assert reasons["n-huge.md"].startswith("too large (5,008 bytes; the limit is 2,000)")
    assert reasons["o-binary.txt"] == "binary content (NUL characters)"
    assert progress.total == 7
    assert progress.seen == [  # good files before and after the bad ones
        "faq.html",
        "m-latin1.md",
        "n-huge.md",
        "o-binary.txt",
        "reference/settings.rst",
        "setup.md",
        "slack/connecting.md",
    ]
    assert sorted(progress.problems) == sorted(reasons)
    assert not await models.Document.objects.filter(path__in=list(reasons)).aexists()


async def test_a_document_the_database_rejects_keeps_its_chunks_and_the_run_goes_on(
    tmp_path, monkeypatch
):
    _write(tmp_path, GUIDE)
    await ingestion.ingest(paths=[tmp_path], source="guide")
    before = await _chunks("setup.md")
    _write(
        tmp_path,
        {
            "faq.html": "<h1>FAQ</h1><h2 id='who'>Who</h2><p>Anyone on the staff.</p>",
            "setup.md": "# Setup\n\nInstall it with uv.\n\n## Database\n\nUse PostgreSQL 17.\n",
            "slack/connecting.md": "# Connecting Slack\n\nUse Socket Mode behind a firewall.\n",
        },
    )
    real_chunk = chunking.chunk

    def colliding_positions(*, document: chunking.ParsedDocument) -> list[chunking.ChunkDraft]:
        """setup.md's sections all claim position 0, which chunk_unique_position refuses."""
        drafts = real_chunk(document=document)
        if document.title != "Setup":
            return drafts
        return [dataclasses.replace(draft, position=0) for draft in drafts]

    monkeypatch.setattr(chunking, "chunk", colliding_positions)

    report = await ingestion.ingest(paths=[tmp_path], source="guide")

    assert [(f.path, f.reason) for f in report.failures] == [
        ("setup.md", "could not be stored (IntegrityError)")
    ]
    assert (report.updated, report.unchanged) == (2, 1)
    assert await _chunks("setup.md") == before
    assert (await search.search(query="staff", limit=1))[0].path == "faq.html"
    assert (await search.search(query="socket firewall", limit=1))[0].path == (
        "slack/connecting.md"
    )
    monkeypatch.undo()
    again = await ingestion.ingest(paths=[tmp_path], source="guide")
    assert (again.updated, again.unchanged, again.failures) == (1, 3, [])


async def test_a_file_that_turns_bad_keeps_its_last_good_version(tmp_path):
    _write(tmp_path, GUIDE)
    await ingestion.ingest(paths=[tmp_path], source="guide")
    _write(tmp_path, {"setup.md": b"# Setup\n\n\xff\xfe broken"})

    report = await ingestion.ingest(paths=[tmp_path], source="guide", prune=True)

    assert [f.path for f in report.failures] == ["setup.md"]
    assert report.removed == 0
    assert [t for _id, _h, t in await _chunks("setup.md")] == [
        "Install it.",
        "Point DATABASE_URL at PostgreSQL.",
    ]


async def test_hidden_and_build_directories_are_not_ingested(tmp_path):
    _write(
        tmp_path,
        {
            "guide.md": "# Guide\n\nHello.\n",
            ".git/notes.md": "# Notes\n\nSecret.\n",
            "_build/html/guide.html": "<h1>Guide</h1><p>Hello.</p>",
        },
    )

    report = await ingestion.ingest(paths=[tmp_path], source="guide")

    assert report.added == 1


async def test_a_missing_path_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ingestion.PathNotFound):
        await ingestion.ingest(paths=[tmp_path / "nope"], source="guide")

    assert not await models.DocumentationSource.objects.aexists()


async def test_a_symlink_out_of_the_root_is_reported_and_its_target_never_stored(tmp_path):
    root, elsewhere = tmp_path / "docs", tmp_path / "private"
    _write(root, {"guide.md": "# Guide\n\nHello.\n", "inside.md": "# Inside\n\nShared page.\n"})
    _write(elsewhere, {"salaries.md": "# Salaries\n\nEveryone's pay, confidential.\n"})
    (root / "pay.md").symlink_to(elsewhere / "salaries.md")
    (root / "alias.md").symlink_to(root / "inside.md")  # a link within the root is fine
    (root / "linked").symlink_to(elsewhere, target_is_directory=True)
    progress = Recorder()

    report = await ingestion.ingest(paths=[root], source="guide", progress=progress)

    assert [(f.path, f.reason) for f in report.failures] == [
        ("pay.md", "a symbolic link to a file outside the source's root")
    ]
    assert progress.problems == ["pay.md"]
    assert report.added == 3  # guide.md, inside.md and alias.md
    assert not await models.Chunk.objects.filter(text__contains="confidential").aexists()
    assert await search.search(query="salaries confidential pay", limit=5) == []


async def test_a_document_whose_file_became_a_link_out_of_the_root_is_pruned(tmp_path):
    _write(tmp_path / "docs", {"guide.md": "# Guide\n\nHello.\n", "pay.md": "# Pay\n\nBands.\n"})
    _write(tmp_path / "private", {"salaries.md": "# Salaries\n\nconfidential\n"})
    await ingestion.ingest(paths=[tmp_path / "docs"], source="guide")
    (tmp_path / "docs" / "pay.md").unlink()
    (tmp_path / "docs" / "pay.md").symlink_to(tmp_path / "private" / "salaries.md")

    report = await ingestion.ingest(paths=[tmp_path / "docs"], source="guide", prune=True)

    assert [f.path for f in report.failures] == ["pay.md"]
    assert report.removed == 1
    assert not await models.Document.objects.filter(path="pay.md").aexists()


async def test_the_file_system_walk_runs_off_the_event_loop(tmp_path):
    """A re-ingest runs on the worker's loop beside every job in flight: listing directories
    there would stall them all for as long as the walk takes."""
    _write(tmp_path, {f"section-{n}/page.md": f"# Page {n}\n\nText {n}.\n" for n in range(20)})
    await ingestion.ingest(paths=[tmp_path], source="guide")
    loop_thread = threading.get_ident()
    listed_on_loop: list[str] = []

    def audit(event: str, args: tuple[object, ...]) -> None:
        if (
            recording
            and event in {"os.scandir", "os.listdir"}
            and str(args[0]).startswith(str(tmp_path))
        ):
            if threading.get_ident() == loop_thread:
                listed_on_loop.append(str(args[0]))
            listed.append(str(args[0]))

    listed: list[str] = []
    recording = True
    sys.addaudithook(audit)  # audit hooks cannot be removed: `recording` switches it off
    try:
        source = await models.DocumentationSource.objects.aget(name="guide")
        report = await ingestion.reingest_source(source_id=source.pk)
    finally:
        recording = False

    assert report.unchanged == 20
    assert len(listed) >= 21  # the walk was seen: the root and every section
    assert listed_on_loop == []


async def test_a_big_run_parses_in_worker_processes_and_stores_in_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "PARALLEL_FROM", 2)
    monkeypatch.setattr(storing, "WRITE_GROUP", 3)
    monkeypatch.setattr(reading.os, "cpu_count", lambda: 2)
    deep = "/".join(["d" * 200] * 5) + "/deep.md"  # a path longer than the database takes
    _write(
        tmp_path,
        {
            **GUIDE,
            "broken.rst": b"Title\n=====\n\n\xff\xfe not text\n",
            deep: "# Deep\n\nFar down.\n",
        },
    )
    recorder = Recorder()

    report = await ingestion.ingest(paths=[tmp_path], source="guide", progress=recorder)

    assert (report.added, report.chunks) == (4, 5)
    reasons = {f.path: f.reason for f in report.failures}
    assert reasons.keys() == {"broken.rst", deep}
    assert "not UTF-8" in reasons["broken.rst"]
    assert "could not be stored" in reasons[deep]
    assert recorder.seen == sorted(recorder.seen)
    [result] = await search.search(query="signing secret", limit=1)
    assert result.path == "slack/connecting.md"

    _write(tmp_path, {"setup.md": "# Setup\n\nWait for the green light.\n"})
    again = await ingestion.ingest(paths=[tmp_path], source="guide")
    assert (again.added, again.updated, again.unchanged) == (0, 1, 3)
    [result] = await search.search(query="green light", limit=1)
    assert result.path == "setup.md"
