"""Classify the commits of a range into release-note entries, without a model.

Conventional Commits are read as the spec says. Most repositories are not conventional, so
plain subjects ("Fix crash on empty input (#123)", "Bump lodash from 4 to 5") are classified by
their leading verb and by the paths they change. Nothing is silently dropped: every commit ends
up LISTED (it is an entry), MERGED into another entry (the commits of a merged pull request, a
cherry-pick of a commit in the range, the same change committed twice, the same pull request
twice) or SKIPPED with a reason (reverted in the same range, release bookkeeping,
``[skip changelog]``).
"""

import bisect
import collections
import dataclasses
import datetime as dt
from collections.abc import Iterable

from domain.release_notes import classification as cc
from domain.release_notes import commit_messages, git_log, grouping


@dataclasses.dataclass(kw_only=True)
class _State:
    disposition: cc.Disposition = cc.Disposition.LISTED
    reason: str = ""
    into: str = ""


def _claims(
    *, by_sha: dict[str, git_log.Commit], tip: str
) -> tuple[list[str], dict[str, list[str]]]:
    """The first-parent line from the tip, and for each merge on it the commits it brought in.

    Walking the merges oldest first and stopping at commits already claimed gives each commit
    to the first merge that brought it in, in one pass over the range.
    """
    mainline: list[str] = []
    current: str | None = tip
    while current is not None and current in by_sha:
        mainline.append(current)
        parents = by_sha[current].parents
        current = parents[0] if parents else None
    on_mainline = set(mainline)
    claimed: set[str] = set()
    members: dict[str, list[str]] = {}
    for sha in reversed(mainline):
        commit = by_sha[sha]
        if not commit.is_merge:
            continue
        found: list[str] = []
        stack = [p for p in commit.parents[1:] if p in by_sha]
        while stack:
            candidate = stack.pop()
            if candidate in claimed or candidate in on_mainline:
                continue
            claimed.add(candidate)
            found.append(candidate)
            stack.extend(p for p in by_sha[candidate].parents if p in by_sha)
        members[sha] = found
    return mainline, members


class _ShaIndex:
    """Finds a commit of the range by its full or abbreviated SHA.

    ``cherry-pick -x`` backports name commits outside the range as a rule, so a miss must be
    cheap: a dict for full SHAs, a sorted list searched by bisection for abbreviations.
    """

    def __init__(self, shas: Iterable[str]) -> None:
        self._full = set(shas)
        self._sorted = sorted(self._full)

    def find(self, sha: str) -> str:
        """The SHA in the range that ``sha`` names; "" when none does, or when an abbreviation
        is ambiguous (git would refuse it too)."""
        if sha in self._full:
            return sha
        if len(sha) < 7 or len(sha) >= 40:
            return ""
        start = bisect.bisect_left(self._sorted, sha)
        found = self._sorted[start : start + 2]
        matches = [candidate for candidate in found if candidate.startswith(sha)]
        return matches[0] if len(matches) == 1 else ""


def classify(*, commits: Iterable[git_log.Commit], tip: str) -> cc.Classification:
    """Entries and an account of every commit for the range whose newest commit is ``tip``."""
    by_sha = {commit.sha: commit for commit in commits}
    index = _ShaIndex(by_sha)
    messages = {sha: commit_messages.parse_message(commit=commit) for sha, commit in by_sha.items()}
    # Oldest first; git's own order breaks ties between equal timestamps.
    position = {sha: index for index, sha in enumerate(by_sha)}
    chronological = sorted(by_sha, key=lambda s: (by_sha[s].authored_at, -position[s]))
    _, members = _claims(by_sha=by_sha, tip=tip)
    states = {sha: _State() for sha in by_sha}

    def skip(sha: str, reason: str) -> None:
        states[sha] = _State(disposition=cc.Disposition.SKIPPED, reason=reason)

    # Skip rules. A skipped pull request takes its commits with it.
    for sha in chronological:
        reason = messages[sha].skip_reason
        if reason:
            skip(sha, reason)
            for member in members.get(sha, ()):
                skip(member, f"{reason}: part of skipped {by_sha[sha].subject[:60]!r}")

    # Reverts, newest first so that reverting a revert brings the original back.
    for sha in reversed(chronological):
        target = index.find(messages[sha].reverts) if messages[sha].reverts else ""
        if not target or states[sha].disposition is cc.Disposition.SKIPPED:
            continue
        if states[target].disposition is cc.Disposition.SKIPPED:
            continue
        skip(sha, f"reverted in range: reverts {target[:10]}")
        skip(target, f"reverted in range: reverted by {sha[:10]}")
        for member in members.get(target, ()):
            skip(member, f"reverted in range: merged by {target[:10]}, reverted by {sha[:10]}")

    # GitHub's Revert button opens a pull request holding the revert: once the revert and what
    # it reverts cancel out, the merge of that pull request has nothing left to say either.
    for sha in chronological:
        inside = members.get(sha, ())
        if (
            messages[sha].pr is not None
            and inside
            and states[sha].disposition is cc.Disposition.LISTED
            and all(states[m].reason.startswith("reverted in range") for m in inside)
        ):
            skip(sha, "reverted in range: merges only commits that cancel out")

    def merge(sha: str, into: str, reason: str) -> None:
        states[sha] = _State(disposition=cc.Disposition.MERGED, reason=reason, into=into)

    def owner(sha: str) -> str:
        while states[sha].disposition is cc.Disposition.MERGED:
            sha = states[sha].into
        return sha

    # A merged pull request is one entry; its commits are merged into it.
    for sha in chronological:
        pr = messages[sha].pr
        if (
            by_sha[sha].is_merge
            and pr is not None
            and states[sha].disposition is cc.Disposition.LISTED
        ):
            for member in members.get(sha, ()):
                if states[member].disposition is not cc.Disposition.SKIPPED:
                    merge(member, sha, f"pull request: part of #{pr}")

    # Cherry-picks of a commit in the range, the same change committed twice (a cherry-pick
    # without -x or a rebased copy keeps the author, the author date and the subject), and the
    # same pull request twice.
    first_with_pr: dict[int, str] = {}
    first_of_change: dict[tuple[str, dt.datetime, str], str] = {}
    for sha in chronological:
        commit, message = by_sha[sha], messages[sha]
        disposition = states[sha].disposition
        if disposition is cc.Disposition.SKIPPED:
            continue
        copy_of = sha
        if not commit.is_merge:
            key = (commit.author.key, commit.authored_at, commit.subject)
            copy_of = first_of_change.setdefault(key, sha)
        if disposition is not cc.Disposition.LISTED or (commit.is_merge and message.pr is None):
            continue
        original = index.find(message.cherry_picked_from) if message.cherry_picked_from else ""
        if (
            original
            and original != sha
            and states[original].disposition is not cc.Disposition.SKIPPED
        ):
            merge(sha, owner(original), f"cherry-pick: of {original[:10]}")
            continue
        if copy_of != sha:
            merge(sha, owner(copy_of), f"same change: as {copy_of[:10]}")
            continue
        if message.pr is not None:
            earlier = first_with_pr.get(message.pr)
            if earlier is not None and owner(earlier) != sha:
                merge(sha, owner(earlier), f"same pull request: #{message.pr}")
                continue
            first_with_pr[message.pr] = sha

    # Merges of a branch without a pull request: fold into what they brought in.
    for sha in chronological:
        commit = by_sha[sha]
        if not commit.is_merge or messages[sha].pr is not None:
            continue
        if states[sha].disposition is not cc.Disposition.LISTED:
            continue
        kept = [
            m for m in members.get(sha, ()) if states[m].disposition is not cc.Disposition.SKIPPED
        ]
        if kept:
            target = min(kept, key=lambda m: (by_sha[m].authored_at, -position[m]))
            merge(sha, owner(target), f"merge commit: of {commit.subject[:60]!r}")
        else:
            skip(sha, "merge commit with no changes of its own")

    merged_into: dict[str, list[str]] = collections.defaultdict(list)
    for sha in chronological:
        if states[sha].disposition is cc.Disposition.MERGED:
            merged_into[owner(sha)].append(sha)
    credited = {
        sha: _credited(
            commit=by_sha[sha],
            message=messages[sha],
            merge_button=any(
                states[m].disposition is cc.Disposition.MERGED for m in members.get(sha, ())
            ),
        )
        for sha in chronological
    }
    entries = [
        _entry(
            sha=sha,
            by_sha=by_sha,
            messages=messages,
            merged=merged_into[sha],
            credited=credited,
        )
        for sha in chronological
        if states[sha].disposition is cc.Disposition.LISTED
    ]
    accounts = tuple(
        cc.Account(
            sha=sha,
            subject=by_sha[sha].subject,
            disposition=states[sha].disposition,
            reason=states[sha].reason,
            into=owner(sha) if states[sha].disposition is cc.Disposition.MERGED else "",
            credited=credited[sha],
        )
        for sha in chronological
    )
    return cc.Classification(entries=tuple(entries), accounts=accounts)


def _credited(
    *, commit: git_log.Commit, message: commit_messages.Message, merge_button: bool
) -> tuple[git_log.Person, ...]:
    """The commit's author and co-authors, once each; a pull request's merge commit whose
    commits are in the range leaves out its author, who only pressed the merge button."""
    people = message.co_authors
    if not (merge_button and message.pr is not None):
        people = (commit.author, *people)
    unique: dict[str, git_log.Person] = {}
    for person in people:
        unique.setdefault(person.key, person)
    return tuple(unique.values())


def _entry(
    *,
    sha: str,
    by_sha: dict[str, git_log.Commit],
    messages: dict[str, commit_messages.Message],
    merged: list[str],
    credited: dict[str, tuple[git_log.Person, ...]],
) -> cc.Entry:
    commit, message = by_sha[sha], messages[sha]
    shas = (sha, *merged)
    paths = (
        tuple(dict.fromkeys(path for s in shas for path in by_sha[s].paths))
        if merged
        else commit.paths
    )
    group, decided = grouping.group_of(message=message, paths=paths)
    chosen = message
    if not decided or grouping.is_vague(message.description):
        # A merge titled "Merge branch x", a PR titled "wip", a squash of vague commits: let
        # the clearest commit inside speak, the oldest in the most important group.
        candidates = []
        for position, s in enumerate(merged):
            member_group, member_decided = grouping.group_of(
                message=messages[s], paths=by_sha[s].paths
            )
            if member_decided and not grouping.is_vague(messages[s].description):
                candidates.append((cc.ORDER.index(member_group), position, s))
        if candidates:
            rank, _, best = min(candidates)
            group, decided = cc.ORDER[rank], True
            if grouping.is_vague(message.description):
                chosen = messages[best]
    description = chosen.description
    breaking_notes = [messages[s].breaking_note for s in shas if messages[s].breaking_note]
    if any(messages[s].breaking for s in shas):
        group = cc.Group.BREAKING
    people: dict[str, git_log.Person] = {}
    for s in shas:
        for person in credited[s]:
            people.setdefault(person.key, person)
    return cc.Entry(
        sha=sha,
        shas=shas,
        group=group,
        scope=message.scope or chosen.scope,
        description=description or commit.subject,
        breaking_note=" ".join(dict.fromkeys(breaking_notes)),
        pr=message.pr,
        authors=tuple(people.values()),
        authored_at=commit.authored_at,
        clear=grouping.is_clear(message=chosen, group=group, decided=decided),
        subject=message.merge_title or commit.subject,
        body=commit.body,
        paths=paths,
    )
