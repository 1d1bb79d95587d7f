"""Offline release notes from real git repositories: grouping, accounting, links, people."""

import asyncio
import datetime as dt
import os
import re
from pathlib import Path

import pytest

from domain.release_notes import classification as cc
from domain.release_notes import classifying, git_log, rendering
from tests.git_repos import Repo

BOB = ("Bob Newcomer", "bob@example.com")
CAROL = ("Carol Regular", "carol@example.com")


async def _notes(repo: Repo, from_ref: str, *, version: str = "2.0.0") -> rendering.Notes:
    from_sha = await git_log.resolve(repo=repo.path, ref=from_ref)
    to_sha = await git_log.resolve(repo=repo.path, ref="HEAD")
    commits = [c async for c in git_log.commits(repo=repo.path, from_sha=from_sha, to_sha=to_sha)]
    classification = classifying.classify(commits=commits, tip=to_sha)
    earlier = await git_log.earlier_contributors(
        repo=repo.path, before_sha=from_sha, among=classification.contributor_keys()
    )
    return rendering.Notes(
        repository=str(repo.path),
        from_ref=from_ref,
        to_ref="HEAD",
        from_sha=from_sha,
        to_sha=to_sha,
        version=version,
        date=dt.date(2026, 11, 21),
        highlights="",
        classification=classification,
        contributors=cc.contributors(classification=classification, earlier=earlier),
        links=rendering.links_for(remote_url=await git_log.remote_url(repo=repo.path)),
    )


def _groups(notes: rendering.Notes) -> dict[str, list[str]]:
    return {
        group.value: [entry.description for entry in entries]
        for group, entries in notes.classification.grouped()
    }


def _accounted_for(notes: rendering.Notes, repo: Repo, from_ref: str) -> None:
    expected = int(repo.git("rev-list", "--count", f"{from_ref}..HEAD"))
    counts = rendering.counts(classification=notes.classification)
    assert counts["commits"] == expected
    assert counts["listed"] + counts["merged"] + counts["skipped"] == expected
    assert counts["listed"] == len(notes.classification.entries)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    repo.commit("Initial commit", author=CAROL)
    repo.tag("v1.0.0")
    return repo


async def test_conventional_commits_are_grouped_with_breaking_changes_first(repo: Repo):
    repo.commit("feat(api): add pagination to the list endpoint")
    repo.commit("fix: handle empty input without crashing")
    repo.commit("perf: stream large exports")
    repo.commit("docs: explain the configuration file")
    repo.commit("refactor(core): split the scheduler module")
    repo.commit("feat!: drop the v1 endpoints")
    repo.commit("fix(auth): expire tokens\n\nBREAKING CHANGE: sessions now last 8 hours at most.")

    notes = await _notes(repo, "v1.0.0")

    assert _groups(notes) == {
        "BREAKING": ["Drop the v1 endpoints", "Expire tokens"],
        "FEATURES": ["Add pagination to the list endpoint"],
        "FIXES": ["Handle empty input without crashing"],
        "PERFORMANCE": ["Stream large exports"],
        "DOCUMENTATION": ["Explain the configuration file"],
        "REFACTORING": ["Split the scheduler module"],
    }
    markdown = rendering.markdown(notes=notes)
    assert markdown.index("### Breaking changes") < markdown.index("### Features")
    assert "- **auth:** Expire tokens (" in markdown
    assert "  sessions now last 8 hours at most." in markdown
    _accounted_for(notes, repo, "v1.0.0")


async def test_plain_subjects_are_classified_by_verb_and_paths_leaving_little_in_other(
    repo: Repo,
):
    repo.commit("Fix crash when the config file is empty (#101)")
    repo.commit("Add dark mode to the settings page (#102)")
    repo.commit("Bump lodash from 4.17.20 to 4.17.21 (#103)", files={"package-lock.json": "{}"})
    repo.commit("Update installation guide", files={"docs/install.md": "pip install"})
    repo.commit("Improve error messages for invalid tokens (#104)")
    repo.commit("Add tests for the importer", files={"tests/test_importer.py": "assert True"})
    repo.commit("Optimize query for the dashboard (#105)")
    repo.commit("Rename internal helpers (#106)")
    repo.commit("Remove the deprecated --legacy flag (#107)")
    repo.commit("Update CI matrix", files={".github/workflows/ci.yml": "on: push"})
    repo.commit("Fix the CI cache key", files={".github/workflows/ci.yml": "on: pull_request"})
    repo.commit("net/http: fix timeout handling on idle connections")
    repo.commit("[ui] Prevent double submission of forms")
    repo.commit("Release notes: add contributor lists (#108)")
    repo.commit("Fix crash: handle missing config (#109)")

    notes = await _notes(repo, "v1.0.0")

    groups = _groups(notes)
    # Within a group: entries without a scope first, then by scope, each oldest first.
    assert groups["FIXES"] == [
        "Fix crash when the config file is empty",
        "Fix crash: handle missing config",
        "Fix timeout handling on idle connections",
        "Prevent double submission of forms",
    ]
    assert groups["FEATURES"] == [
        "Add dark mode to the settings page",
        "Add contributor lists",
    ]
    assert groups["DEPENDENCIES"] == ["Bump lodash from 4.17.20 to 4.17.21"]
    assert groups["DOCUMENTATION"] == ["Update installation guide"]
    assert groups["TESTS"] == ["Add tests for the importer"]
    assert groups["PERFORMANCE"] == ["Optimize query for the dashboard"]
    assert groups["REFACTORING"] == ["Rename internal helpers"]
    assert groups["CHANGES"] == [
        "Improve error messages for invalid tokens",
        "Remove the deprecated --legacy flag",
    ]
    assert groups["BUILD"] == ["Update CI matrix", "Fix the CI cache key"]
    assert "OTHER" not in groups
    # The scope of "net/http: fix ..." is kept, and the PR number becomes a link target.
    entries = {entry.description: entry for entry in notes.classification.entries}
    assert entries["Fix timeout handling on idle connections"].scope == "net/http"
    assert entries["Fix crash when the config file is empty"].pr == 101


async def test_merged_pull_request_is_one_entry_and_its_commits_are_merged_into_it(repo: Repo):
    repo.branch("csv-export")
    first = repo.commit("Add CSV export", author=BOB)
    second = repo.commit("Fix export of empty tables", author=BOB)
    repo.checkout("main")
    repo.commit("Fix typo in the footer")
    merge = repo.merge(
        "csv-export", "Merge pull request #20 from bob/csv-export\n\nExport reports as CSV"
    )

    notes = await _notes(repo, "v1.0.0")

    entries = [e for e in notes.classification.entries if e.pr == 20]
    assert len(entries) == 1
    assert entries[0].description == "Export reports as CSV"
    assert entries[0].group is cc.Group.FEATURES
    assert set(entries[0].shas) == {merge, first, second}
    accounts = {a.sha: a for a in notes.classification.accounts}
    assert accounts[first].disposition is cc.Disposition.MERGED
    assert accounts[first].into == merge
    assert accounts[second].reason == "pull request: part of #20"
    _accounted_for(notes, repo, "v1.0.0")


async def test_branch_merge_without_pull_request_keeps_the_branch_commits(repo: Repo):
    repo.branch("topic")
    repo.commit("Add retry to the uploader")
    repo.checkout("main")
    repo.commit("Fix date parsing in reports")
    merge = repo.merge("topic", "Merge branch 'topic'")

    notes = await _notes(repo, "v1.0.0")

    assert _groups(notes) == {
        "FEATURES": ["Add retry to the uploader"],
        "FIXES": ["Fix date parsing in reports"],
    }
    account = next(a for a in notes.classification.accounts if a.sha == merge)
    assert account.disposition is cc.Disposition.MERGED
    _accounted_for(notes, repo, "v1.0.0")


async def test_revert_and_reverted_commit_in_the_range_cancel_out(repo: Repo):
    kept = repo.commit("feat: add webhooks")
    reverted = repo.commit("feat: add experimental sync mode")
    revert = repo.revert(reverted)
    old = repo.commit("Revert an earlier release's change", files={"app.py": "x = 1"})

    notes = await _notes(repo, "v1.0.0")

    descriptions = [entry.description for entry in notes.classification.entries]
    assert "Add experimental sync mode" not in descriptions
    assert "Add webhooks" in descriptions
    accounts = {a.sha: a for a in notes.classification.accounts}
    assert accounts[reverted].disposition is cc.Disposition.SKIPPED
    assert accounts[revert].disposition is cc.Disposition.SKIPPED
    assert accounts[reverted].reason.startswith("reverted in range")
    assert accounts[kept].disposition is cc.Disposition.LISTED
    assert accounts[old].disposition is cc.Disposition.LISTED
    assert notes.classification.skip_reasons() == {"reverted in range": 2}
    assert "2 skipped (2 reverted in range)" in rendering.markdown(notes=notes)


async def test_reverting_a_revert_brings_the_change_back(repo: Repo):
    original = repo.commit("feat: add audit log")
    first_revert = repo.revert(original)
    repo.revert(first_revert)

    notes = await _notes(repo, "v1.0.0")

    assert [e.sha for e in notes.classification.entries] == [original]
    assert notes.classification.count(cc.Disposition.SKIPPED) == 2


async def test_cherry_pick_and_same_pull_request_twice_are_merged(repo: Repo):
    repo.branch("release")
    repo.checkout("main")
    original = repo.commit("Fix memory leak in the cache (#30)")
    repo.commit("Add export button (#31)")
    repo.checkout("release")
    pick = repo.cherry_pick(original)
    repo.checkout("main")
    repo.merge("release", "Merge branch 'release'")
    again = repo.commit("Add export button to the mobile view (#31)")

    notes = await _notes(repo, "v1.0.0")

    accounts = {a.sha: a for a in notes.classification.accounts}
    assert accounts[pick].disposition is cc.Disposition.MERGED
    assert accounts[pick].into == original
    assert accounts[pick].reason.startswith("cherry-pick")
    assert accounts[again].disposition is cc.Disposition.MERGED
    assert accounts[again].reason == "same pull request: #31"
    assert sorted(e.description for e in notes.classification.entries) == [
        "Add export button",
        "Fix memory leak in the cache",
    ]
    _accounted_for(notes, repo, "v1.0.0")


async def test_release_bookkeeping_and_skip_marker_are_skipped_with_a_reason(repo: Repo):
    repo.commit("Release 1.1.0")
    repo.commit("chore(release): 1.1.0")
    repo.commit("Bump version to 1.1.1")
    repo.commit("Tidy imports [skip changelog]")
    repo.commit("Release the database lock before waiting")  # a fix, not bookkeeping

    notes = await _notes(repo, "v1.0.0")

    assert [e.description for e in notes.classification.entries] == [
        "Release the database lock before waiting"
    ]
    assert notes.classification.skip_reasons() == {
        "release bookkeeping": 3,
        "marked [skip changelog]": 1,
    }


async def test_contributors_include_co_authors_and_name_first_timers(repo: Repo):
    repo.commit("Add importer", author=CAROL)
    repo.commit(
        "Fix importer encoding\n\nCo-authored-by: Dana First <dana@example.com>", author=BOB
    )
    repo.commit("Bump deps", author=("dependabot[bot]", "bot@example.com"))

    notes = await _notes(repo, "v1.0.0")

    contributors = {c.name: c.first_time for c in notes.contributors}
    assert contributors == {"Bob Newcomer": True, "Carol Regular": False, "Dana First": True}
    markdown = rendering.markdown(notes=notes)
    assert "First-time contributors: Bob Newcomer and Dana First. Welcome!" in markdown


@pytest.mark.parametrize(
    ("remote", "pull_request", "commit"),
    [
        (
            "git@github.com:acme/widgets.git",
            "https://github.com/acme/widgets/pull/7",
            "https://github.com/acme/widgets/commit/abc",
        ),
        (
            "https://github.com/acme/widgets",
            "https://github.com/acme/widgets/pull/7",
            "https://github.com/acme/widgets/commit/abc",
        ),
        (
            "git@bitbucket.org:acme/widgets.git",
            "https://bitbucket.org/acme/widgets/pull-requests/7",
            "https://bitbucket.org/acme/widgets/commits/abc",
        ),
        (
            "ssh://git@gitlab.example.com:2222/group/sub/app.git",
            "https://gitlab.example.com/group/sub/app/-/merge_requests/7",
            "https://gitlab.example.com/group/sub/app/-/commit/abc",
        ),
    ],
)
def test_links_are_derived_from_github_gitlab_and_bitbucket_remotes(remote, pull_request, commit):
    links = rendering.links_for(remote_url=remote)
    assert links is not None
    assert links.pull_request(7) == pull_request
    assert links.commit("abc") == commit


def test_local_remote_gets_no_links():
    assert rendering.links_for(remote_url="/srv/git/widgets.git") is None
    assert rendering.links_for(remote_url="") is None


async def test_markdown_links_each_entry_to_its_pull_request_or_commit(repo: Repo):
    repo.git("remote", "add", "origin", "git@github.com:acme/widgets.git")
    repo.commit("Fix login redirect (#12)")
    plain = repo.commit("Add search filters")

    markdown = rendering.markdown(notes=await _notes(repo, "v1.0.0"))

    assert markdown.startswith("## 2.0.0 (2026-11-21)\n")
    assert "- Fix login redirect ([#12](https://github.com/acme/widgets/pull/12))" in markdown
    assert (
        f"- Add search filters ([{plain[:7]}](https://github.com/acme/widgets/commit/{plain}))"
        in markdown
    )
    assert markdown.rstrip().endswith(
        "_2 commits: 2 listed, 0 merged into other entries, 0 skipped._"
    )


async def test_json_lists_every_commit_with_what_became_of_it(repo: Repo):
    repo.git("remote", "add", "origin", "https://gitlab.com/acme/widgets.git")
    fix = repo.commit("fix: keep sessions alive (#5)")
    reverted = repo.commit("feat: add beta banner")
    repo.revert(reverted)

    data = rendering.data(notes=await _notes(repo, "v1.0.0"))

    assert data["version"] == "2.0.0"
    assert data["counts"]["commits"] == 3
    assert data["counts"]["skipped"] == 2
    [group] = data["groups"]
    assert group["title"] == "Fixes"
    [entry] = group["entries"]
    assert entry["pull_request_url"] == "https://gitlab.com/acme/widgets/-/merge_requests/5"
    assert entry["sha"] == fix
    assert {c["disposition"] for c in data["commits"]} == {"LISTED", "SKIPPED"}
    assert all(c["reason"] for c in data["commits"] if c["disposition"] == "SKIPPED")


async def test_unusual_paths_and_messages_survive_the_log_parser(repo: Repo):
    sha = repo.commit(
        "Fix café menu rendering ✨\n\nA body with git_log's own \x1f separator.\n\n"
        "Co-authored-by: Zoë <zoe@example.com>",
        files={"docs/with space.md": "x", "src/naïve/ünïcode.py": "y"},
    )

    notes = await _notes(repo, "v1.0.0")

    [entry] = notes.classification.entries
    assert entry.sha == sha
    assert entry.description == "Fix café menu rendering ✨"
    assert set(entry.paths) == {"docs/with space.md", "src/naïve/ünïcode.py"}
    assert "Zoë" in [c.name for c in notes.contributors]


async def test_gitlab_merge_request_is_one_entry_titled_by_the_request(repo: Repo):
    repo.branch("feature")
    repo.commit("WIP first pass")
    repo.commit("Address review comments")
    repo.checkout("main")
    merge = repo.merge(
        "feature",
        "Merge branch 'feature' into 'main'\n\nAdd SAML single sign-on\n\n"
        "See merge request acme/widgets!42",
    )
    repo.git("remote", "add", "origin", "git@gitlab.com:acme/widgets.git")

    notes = await _notes(repo, "v1.0.0")

    [entry] = notes.classification.entries
    assert (entry.sha, entry.pr, entry.description) == (merge, 42, "Add SAML single sign-on")
    assert entry.group is cc.Group.FEATURES
    assert (
        "- Add SAML single sign-on ([!42](https://gitlab.com/acme/widgets/-/merge_requests/42))"
        in rendering.markdown(notes=notes)
    )


async def test_earlier_co_authors_are_not_first_time_contributors(tmp_path: Path):
    repo = Repo(tmp_path / "repo")
    repo.commit("Initial commit\n\nCo-authored-by: Erin Early <erin@example.com>")
    repo.tag("v1")
    repo.commit("Add webhooks", author=("Erin Early", "ERIN@example.com"))

    notes = await _notes(repo, "v1")

    assert [(c.name, c.first_time) for c in notes.contributors] == [("Erin Early", False)]


async def test_a_record_separator_in_a_message_is_only_text(repo: Repo):
    sha = repo.commit("Fix export of \x1e records\n\nThe body keeps \x1e and \x1f too.")
    repo.commit("Add CSV export")

    notes = await _notes(repo, "v1.0.0")

    entries = {entry.sha: entry for entry in notes.classification.entries}
    assert entries[sha].description == "Fix export of \x1e records"
    assert entries[sha].body == "The body keeps \x1e and \x1f too."
    assert len(entries) == 2


async def test_a_cancelled_git_call_leaves_no_git_process_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    pid_file = tmp_path / "git.pid"
    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    call = asyncio.create_task(git_log.resolve(repo=tmp_path, ref="HEAD"))
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.01)
    pid = int(pid_file.read_text())

    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call

    # Killed and reaped: not even a zombie is left.
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_a_cherry_pick_named_by_an_abbreviated_sha_is_merged_into_its_original(repo: Repo):
    original = repo.commit("Fix rounding of invoice totals (#40)")
    pick = repo.commit(
        f"Fix rounding of invoice totals\n\n(cherry picked from commit {original[:9]})"
    )

    notes = await _notes(repo, "v1.0.0")

    account = next(a for a in notes.classification.accounts if a.sha == pick)
    assert (account.disposition, account.into) == (cc.Disposition.MERGED, original)


def test_backports_of_commits_outside_the_range_are_each_listed():
    # `cherry-pick -x` backports whose originals are on another branch (not in the range):
    # each is its own entry. (Their lookup is a dict, not a scan of the range; the speed of a
    # 10,000-commit range is bench/release_notes.py's business, not a timed test's.)
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    commits = []
    parent: tuple[str, ...] = ()
    for n in range(500):
        sha = f"{n:040x}"
        commits.append(
            git_log.Commit(
                sha=sha,
                parents=parent,
                author=git_log.Person(name="Alice", email="alice@example.com"),
                authored_at=when + dt.timedelta(minutes=n),
                message=f"Fix bug {n}\n\n(cherry picked from commit {'f' * 32}{n:08x})",
                paths=(f"src/module_{n}.py",),
            )
        )
        parent = (sha,)

    classification = classifying.classify(commits=reversed(commits), tip=commits[-1].sha)

    assert classification.count(cc.Disposition.LISTED) == 500


async def test_a_pull_request_reverted_with_githubs_revert_button_leaves_nothing_listed(
    repo: Repo,
):
    repo.commit("Fix date parsing in reports (#4)")
    repo.branch("sync-mode")
    repo.commit("Add experimental sync mode", author=BOB)
    repo.commit("Document sync mode", author=BOB)
    repo.checkout("main")
    merged = repo.merge("sync-mode", "Merge pull request #5 from bob/sync-mode\n\nAdd sync mode")
    # The Revert button: a branch with `git revert -m 1` of the merge, merged as its own PR.
    repo.branch("revert-5-sync-mode")
    repo.git("revert", "--no-edit", "-m", "1", merged)
    repo.checkout("main")
    revert_merge = repo.merge(
        "revert-5-sync-mode",
        'Merge pull request #9 from bob/revert-5-sync-mode\n\nRevert "Add sync mode"',
    )

    notes = await _notes(repo, "v1.0.0")

    assert [entry.description for entry in notes.classification.entries] == [
        "Fix date parsing in reports"
    ]
    accounts = {a.sha: a for a in notes.classification.accounts}
    assert accounts[revert_merge].disposition is cc.Disposition.SKIPPED
    assert accounts[revert_merge].reason.startswith("reverted in range")
    assert notes.classification.skip_reasons() == {"reverted in range": 5}
    _accounted_for(notes, repo, "v1.0.0")


async def test_release_bookkeeping_is_recognised_in_conventional_and_plain_subjects(repo: Repo):
    bookkeeping = [
        "chore(main): release 1.2.0 (#61)",  # release-please
        "chore: release v1.2.0",
        "chore: bump version to 1.2.3",
        "build: release 3.1.0",
        "release: 1.2.0",
        "Prepare release 1.3.0",
        "Update changelog for 1.3.0",
        "v1.3.1",
    ]
    changes = [
        "Release 2.0 of the parser adds streaming support",
        "Update version to support Python 3.12",
        "Prepare for the release of the new API",
        "Update changelog generator to group merges",
        "chore: release the lock file before reinstalling",
    ]
    for subject in bookkeeping + changes:
        repo.commit(subject)

    notes = await _notes(repo, "v1.0.0")

    skipped = {
        a.subject for a in notes.classification.accounts if a.reason == "release bookkeeping"
    }
    assert skipped == set(bookkeeping)
    assert len(notes.classification.entries) == len(changes)


async def test_chores_are_maintenance_whatever_their_verb(repo: Repo):
    repo.commit("chore: add a make target for the linters")
    repo.commit("chore: fix the flaky release script")
    repo.commit("chore: update contributor docs", files={"docs/contributing.md": "Hi"})
    repo.commit("chore(deps): bump ruff to 0.9", files={"uv.lock": "x"})

    notes = await _notes(repo, "v1.0.0")

    assert _groups(notes) == {
        "DOCUMENTATION": ["Update contributor docs"],
        "DEPENDENCIES": ["Bump ruff to 0.9"],
        "BUILD": ["Add a make target for the linters", "Fix the flaky release script"],
    }


async def test_performance_needs_a_performance_verb_or_phrase_near_the_start(repo: Repo):
    for subject in (
        "Speed up the search index",
        "Reduce memory usage of CSV exports",
        "Make CSV exports faster",
        "Improve search latency for long queries",
        "Log slow queries",
        "Cache invalidation bug when user logs out",
        "Show latency on the status page",
    ):
        repo.commit(subject)

    notes = await _notes(repo, "v1.0.0")

    groups = _groups(notes)
    assert groups["PERFORMANCE"] == [
        "Speed up the search index",
        "Reduce memory usage of CSV exports",
        "Make CSV exports faster",
        "Improve search latency for long queries",
    ]
    assert groups["FIXES"] == ["Cache invalidation bug when user logs out"]
    # A performance noun alone does not make performance work.
    assert groups["CHANGES"] == ["Log slow queries", "Show latency on the status page"]


async def test_inflected_verbs_and_plain_statements_of_change_stay_out_of_other(repo: Repo):
    repo.commit("net/http: reject invalid headers")
    repo.commit("Sends a welcome message to new members")
    repo.commit("Translated error messages into German")
    repo.commit("Relaying answers to Slack as they are written")
    repo.commit("Crash when saving drafts")
    statement = repo.commit("Data models for the knowledge base and release notes")
    repo.commit("wip")
    repo.commit("Tidbits", files={"src/tidbits.py": "x"})  # one word says too little

    notes = await _notes(repo, "v1.0.0")

    assert _groups(notes) == {
        "FIXES": ["Crash when saving drafts", "Reject invalid headers"],
        "CHANGES": [
            "Sends a welcome message to new members",
            "Translated error messages into German",
            "Relaying answers to Slack as they are written",
            "Data models for the knowledge base and release notes",
        ],
        "OTHER": ["Wip", "Tidbits"],
    }
    # A statement placed by its shape, not a rule, is left for a model to place better.
    unclear = {entry.sha for entry in notes.classification.entries if not entry.clear}
    assert statement in unclear


async def test_identifiers_at_the_start_keep_their_case(repo: Repo):
    for subject in (
        "fix: posted_at is when the post happened",
        "bm25s ships no stubs",
        "manage.py ask prints sources",
        "feat: `release_notes` posts to Slack",
        "fix: keep sessions alive",
    ):
        repo.commit(subject)

    notes = await _notes(repo, "v1.0.0")

    assert sorted(entry.description for entry in notes.classification.entries) == [
        "Keep sessions alive",
        "`release_notes` posts to Slack",
        "bm25s ships no stubs",
        "manage.py ask prints sources",
        "posted_at is when the post happened",
    ]


async def test_the_same_change_committed_twice_without_x_is_one_entry(repo: Repo):
    repo.branch("stable")
    repo.checkout("main")
    original = repo.commit("Allow closed server processes a moment to exit", author=BOB)
    repo.checkout("stable")
    repo.git("cherry-pick", original)  # no -x: nothing in the message says it is a copy
    copy = repo.head()
    repo.checkout("main")
    repo.merge("stable", "Merge branch 'stable'")
    same_words = repo.commit("Allow closed server processes a moment to exit", author=BOB)

    notes = await _notes(repo, "v1.0.0")

    accounts = {a.sha: a for a in notes.classification.accounts}
    assert (accounts[copy].disposition, accounts[copy].into) == (cc.Disposition.MERGED, original)
    assert accounts[copy].reason.startswith("same change")
    # Committed again later with the same words is another change (another author date).
    assert accounts[same_words].disposition is cc.Disposition.LISTED
    _accounted_for(notes, repo, "v1.0.0")


async def test_a_pull_request_with_a_vague_title_is_described_by_its_clearest_commit(repo: Repo):
    repo.branch("reports")
    repo.commit("wip")
    repo.commit("Fix the header row of exported reports")
    repo.commit("Add CSV export to the reports page")
    repo.checkout("main")
    merge = repo.merge("reports", "Merge pull request #150 from dev/reports\n\nwip")

    notes = await _notes(repo, "v1.0.0")

    [entry] = notes.classification.entries
    assert (entry.sha, entry.pr) == (merge, 150)
    assert (entry.group, entry.description) == (
        cc.Group.FEATURES,
        "Add CSV export to the reports page",
    )
    assert entry.clear


async def test_whoever_pressed_the_merge_button_is_not_credited_for_the_pull_request(repo: Repo):
    repo.branch("importer")
    repo.commit("Add the CSV importer", author=BOB)
    repo.checkout("main")
    # Alice Maintainer, the repository's configured user, merges Bob's pull request.
    repo.merge("importer", "Merge pull request #7 from bob/importer\n\nImport CSV files")

    notes = await _notes(repo, "v1.0.0")

    [entry] = notes.classification.entries
    assert [person.name for person in entry.authors] == ["Bob Newcomer"]
    assert [(c.name, c.commits) for c in notes.contributors] == [("Bob Newcomer", 1)]


async def test_first_time_contributors_are_found_among_the_range_authors_only(repo: Repo):
    repo.commit("Add importer", author=("Dana Earlier", "dana@example.com"))
    repo.commit("Add importer", author=CAROL)
    repo.tag("v1.1.0")
    repo.commit("Fix importer encoding", author=CAROL)
    repo.commit("Add exporter", author=BOB)

    from_sha = await git_log.resolve(repo=repo.path, ref="v1.1.0")
    keys = {"carol@example.com", "bob@example.com"}

    earlier = await git_log.earlier_contributors(repo=repo.path, before_sha=from_sha, among=keys)

    # Only the range's people are looked for (Dana's earlier commit is not collected), and
    # of those, only Carol had committed before.
    assert earlier == {"carol@example.com"}


async def test_whom_to_look_for_may_be_given_while_git_already_walks_the_history(repo: Repo):
    repo.commit("Add importer", author=CAROL)
    repo.tag("v1.1.0")
    repo.commit("Add exporter", author=BOB)
    from_sha = await git_log.resolve(repo=repo.path, ref="v1.1.0")
    keys: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()

    walk = asyncio.create_task(
        git_log.earlier_contributors(repo=repo.path, before_sha=from_sha, among=keys)
    )
    await asyncio.sleep(0.05)  # the range is still being classified
    keys.set_result({"carol@example.com", "bob@example.com"})

    assert await walk == {"carol@example.com"}


async def test_commit_text_cannot_inject_links_emphasis_or_headings(repo: Repo):
    from domain.text import safe_markdown

    repo.git("remote", "add", "origin", "git@github.com:acme/widgets.git")
    repo.commit("Fix login, see [the docs](https://evil.example/phish)")
    repo.commit("fix(*): pass __init__ arguments and **kwargs through")
    repo.commit("feat!: drop the v1 API\n\nBREAKING CHANGE: # Upgrade now")
    repo.commit("Fix parsing of `a_b*c` names", author=("Eve [me](https://evil.example)", "e@x"))

    markdown = rendering.markdown(notes=await _notes(repo, "v1.0.0"))
    html = safe_markdown.render_html(markdown=markdown)

    assert "evil.example" not in "".join(re.findall(r'href="([^"]*)"', html))
    assert "<h1>" not in html
    assert "[the docs](https://evil.example/phish)" in html
    assert "Pass __init__ arguments and **kwargs through" in html
    assert "<strong>*:</strong>" in html
    assert "<li><strong>" not in html.replace("<li><strong>*:</strong>", "")
    assert "<code>a_b*c</code>" in html
    assert "# Upgrade now" in html
    assert "Eve [me](https://evil.example)" in html
