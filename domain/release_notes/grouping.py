"""The rules that put a commit in a group, and tell whether its message needs a model."""

import functools
import re
from collections.abc import Sequence

from domain.release_notes import classification as cc
from domain.release_notes import commit_messages, vocabulary

_VAGUE_LONGEST = max(len(phrase) for phrase in vocabulary.VAGUE)


@functools.lru_cache(maxsize=8192)
def _path_kinds(path: str) -> tuple[cc.Group, ...]:
    # Cached: a range touches the same files over and over.
    return tuple(group for pattern, group in vocabulary.PATH_KINDS if pattern.search(path))


def _path_group(paths: Sequence[str]) -> cc.Group | None:
    """The first of dependencies, docs, tests and build files that every path is."""
    if not paths:
        return None
    common = _path_kinds(paths[0])
    for path in paths[1:]:
        if not common:
            return None
        kinds = _path_kinds(path)
        common = tuple(group for group in common if group in kinds)
    return common[0] if common else None


def _first_word(description: str) -> str:
    words = re.findall(r"[A-Za-z][A-Za-z']*", description)
    return words[0].lower() if words else ""


_INFLECTIONS = (
    ("ies", ("y",)),
    ("ied", ("y",)),
    ("es", ("", "e")),
    ("s", ("",)),
    ("ed", ("", "e")),
    ("ing", ("", "e")),
)


def _verb_group(word: str) -> cc.Group | None:
    """The group of a leading word, read as the verb it inflects ("Sends", "Relayed",
    "Logging"), so the lists need only base forms."""
    group = vocabulary.VERB_GROUPS.get(word)
    if group is not None:
        return group
    for suffix, endings in _INFLECTIONS:
        stem = word.removesuffix(suffix)
        if stem == word or len(stem) < 2:
            continue
        for ending in endings:
            group = vocabulary.VERB_GROUPS.get(stem + ending)
            if group is not None:
                return group
        if len(stem) >= 3 and stem[-1] == stem[-2]:  # "stopped", "logging"
            group = vocabulary.VERB_GROUPS.get(stem[:-1])
            if group is not None:
                return group
    return None


def group_of(*, message: commit_messages.Message, paths: Sequence[str]) -> tuple[cc.Group, bool]:
    """The group of a commit from its type, else its changed paths, else its leading verb,
    and whether a rule decided it (False: a guess from the subject's shape).

    A ``chore`` is build and maintenance unless its paths say otherwise (only docs, tests or
    lockfiles): its verb is not read.
    """
    if message.breaking:
        return cc.Group.BREAKING, True
    if message.scope.lower() in vocabulary.DEPENDENCY_SCOPES:
        return cc.Group.DEPENDENCIES, True
    if message.kind and message.kind != "chore":
        return vocabulary.TYPES[message.kind], True
    by_path = _path_group(paths)
    if by_path is not None:
        # "Fix typo in README", "Add tests for X", "Fix CI cache": a change that only touches
        # docs, tests, build files or lockfiles is that kind of work, whatever its verb.
        return by_path, True
    if message.kind == "chore":
        # The author said it is housekeeping: "chore: add a make target" is no feature.
        return cc.Group.BUILD, True
    description = message.description
    first = _first_word(description)
    if first in vocabulary.NOUN_OR_VERB and vocabulary.BUG_NOUNS.search(description):
        return cc.Group.FIXES, True
    verb = _verb_group(first)
    unsure = verb in {cc.Group.CHANGES, cc.Group.REFACTORING, None}
    if unsure and vocabulary.PERFORMANCE_PHRASE.search(description):
        return cc.Group.PERFORMANCE, True
    if verb is cc.Group.CHANGES and vocabulary.DEPENDENCY_WORDS.search(description):
        return cc.Group.DEPENDENCIES, True
    if verb is not None:
        return verb, True
    if vocabulary.BUG_NOUNS.search(description):
        return cc.Group.FIXES, True  # "Crash when saving drafts", "Memory leak in the exporter"
    if paths and len(description.split()) >= 3 and not is_vague(description):
        # A subject that says something about source code ("Search ranks with BM25 postings")
        # is a change; a model, when there is one, may still place it better.
        return cc.Group.CHANGES, False
    return cc.Group.OTHER, False


def is_vague(description: str) -> bool:
    """Whether a description says nothing a reader could use ("wip", "misc", "more changes")."""
    if len(description) > _VAGUE_LONGEST + 8:  # no vague phrase is this long, even padded
        return False
    words = re.findall(r"[a-z']+", description.lower())
    return not words or " ".join(words) in vocabulary.VAGUE


def is_clear(*, message: commit_messages.Message, group: cc.Group, decided: bool) -> bool:
    if group is cc.Group.OTHER or not decided or len(message.description.split()) < 3:
        return False
    return not is_vague(message.description)
