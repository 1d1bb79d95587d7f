"""What a classification of a range is: groups, entries, an account of each commit, contributors."""

import collections
import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable

from domain.release_notes import git_log


class Group(enum.StrEnum):
    BREAKING = "BREAKING"
    FEATURES = "FEATURES"
    FIXES = "FIXES"
    PERFORMANCE = "PERFORMANCE"
    CHANGES = "CHANGES"
    DOCUMENTATION = "DOCUMENTATION"
    REFACTORING = "REFACTORING"
    DEPENDENCIES = "DEPENDENCIES"
    TESTS = "TESTS"
    BUILD = "BUILD"
    OTHER = "OTHER"


TITLES: dict[Group, str] = {
    Group.BREAKING: "Breaking changes",
    Group.FEATURES: "Features",
    Group.FIXES: "Fixes",
    Group.PERFORMANCE: "Performance",
    Group.CHANGES: "Changes",
    Group.DOCUMENTATION: "Documentation",
    Group.REFACTORING: "Refactoring",
    Group.DEPENDENCIES: "Dependencies",
    Group.TESTS: "Tests",
    Group.BUILD: "Build and maintenance",
    Group.OTHER: "Other",
}
# Breaking changes first, then what users notice most, then internal work, Other last.
ORDER: tuple[Group, ...] = tuple(Group)


class Disposition(enum.StrEnum):
    LISTED = "LISTED"
    MERGED = "MERGED"
    SKIPPED = "SKIPPED"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Entry:
    """One line of the release notes."""

    sha: str  # the commit the entry is named after
    shas: tuple[str, ...]  # every commit the entry stands for, its own first
    group: Group
    scope: str
    description: str
    breaking_note: str
    pr: int | None
    authors: tuple[git_log.Person, ...]
    authored_at: dt.datetime
    clear: bool  # the message already says what changed; no model needed
    subject: str
    body: str
    paths: tuple[str, ...]

    @property
    def breaking(self) -> bool:
        return self.group is Group.BREAKING


@dataclasses.dataclass(frozen=True, kw_only=True)
class Account:
    """What became of one commit."""

    sha: str
    subject: str
    disposition: Disposition
    reason: str  # why it was merged or skipped; "" when listed
    into: str  # the entry's sha when merged
    # Who the commit credits: its author and co-authors, but not whoever pressed the merge
    # button of a pull request whose own commits are in the range.
    credited: tuple[git_log.Person, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Classification:
    entries: tuple[Entry, ...]
    accounts: tuple[Account, ...]

    def count(self, disposition: Disposition) -> int:
        return sum(1 for account in self.accounts if account.disposition is disposition)

    def skip_reasons(self) -> dict[str, int]:
        counter = collections.Counter(
            _reason_kind(account.reason)
            for account in self.accounts
            if account.disposition is Disposition.SKIPPED
        )
        return dict(counter.most_common())

    def contributor_keys(self) -> set[str]:
        """Keys (see ``Person.key``) of the people ``contributors`` would name."""
        return {person.key for person in self.credited()}

    def credited(self) -> Iterable[git_log.Person]:
        """Everyone credited by a commit that is not skipped, once per commit, bots left out."""
        for account in self.accounts:
            if account.disposition is not Disposition.SKIPPED:
                yield from (person for person in account.credited if not _is_bot(person))

    def grouped(self) -> list[tuple[Group, list[Entry]]]:
        by_group: dict[Group, list[Entry]] = collections.defaultdict(list)
        for entry in self.entries:
            by_group[entry.group].append(entry)
        return [
            (group, sorted(by_group[group], key=lambda e: (e.scope.lower(), e.authored_at, e.sha)))
            for group in ORDER
            if by_group[group]
        ]


def _reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Contributor:
    name: str
    commits: int
    first_time: bool


def contributors(*, classification: Classification, earlier: set[str]) -> list[Contributor]:
    """Who contributed what is listed (authors and co-authors, bots left out), most active
    first; first-time contributors had no commit before the range (``earlier`` holds the keys
    of those who had)."""
    counts: collections.Counter[str] = collections.Counter()
    names: dict[str, str] = {}
    for person in classification.credited():
        counts[person.key] += 1
        names.setdefault(person.key, person.name or person.email)
    return [
        Contributor(name=names[key], commits=n, first_time=key not in earlier)
        for key, n in sorted(counts.items(), key=lambda item: (-item[1], names[item[0]].lower()))
    ]


def _is_bot(person: git_log.Person) -> bool:
    return "[bot]" in person.name or "[bot]" in person.email
