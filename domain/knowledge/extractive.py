"""Extractive answers: quote the best-matching sentences of retrieved passages, never invent.

This is what the ``offline`` model answers with. A passage counts as relevant only when it
shares enough of the question's content words; otherwise the answer says plainly that the
documentation does not cover the question.

Prose is quoted sentence by sentence; a code block, a table or a list item is quoted whole,
as the documentation shows it (a command flattened into a sentence cannot be copied).
"""

import dataclasses
import re

NOT_COVERED = "I couldn't find this in the documentation, so I won't guess."
_WORD = re.compile(r"[a-z0-9][a-z0-9_+#.-]*[a-z0-9]|[a-z0-9]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PARAGRAPH_BREAK = re.compile(r"\n{2,}")
_FENCED = re.compile(r"^```[^\n]*\n.*?^```[ \t]*$", re.MULTILINE | re.DOTALL)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S")
_STOPWORD_TEXT = """
a about above after again all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has
have having he her here hers him his how i if in into is it its itself just me more most my
no nor not now of off on once only or other our ours out over own same she should so some such
than that the their theirs them then there these they this those through to too under until
up very was we were what when where which while who whom why will with would you your yours
please thanks thank hi hello hey tell explain know need want get use using find
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclasses.dataclass(frozen=True, kw_only=True)
class Passage:
    chunk_id: int
    title: str
    heading: str
    text: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Extract:
    text: str
    chunk_ids: list[int]
    covered: bool


def content_words(text: str) -> set[str]:
    return {
        word.strip(".")
        for word in _WORD.findall(text.lower())
        if word not in _STOPWORDS and len(word.strip(".")) > 1
    }


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Unit:
    """What is quoted or left out as one: a sentence, a list item, a code block or a table."""

    text: str
    kind: str  # "sentence", "item" or "block"


def _units(text: str) -> list[_Unit]:
    units: list[_Unit] = []
    start = 0
    for fenced in _FENCED.finditer(text):
        units += _prose_units(text[start : fenced.start()])
        units.append(_Unit(text=fenced.group(0).strip(), kind="block"))
        start = fenced.end()
    return units + _prose_units(text[start:])


def _prose_units(text: str) -> list[_Unit]:
    units: list[_Unit] = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        lines = [line for line in paragraph.splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.lstrip().startswith("|") for line in lines):
            units.append(_Unit(text="\n".join(line.strip() for line in lines), kind="block"))
        elif all(_LIST_ITEM.match(line) for line in lines):
            units += [_Unit(text=line.strip(), kind="item") for line in lines]
        else:
            joined = " ".join(line.strip() for line in lines)
            units += [
                _Unit(text=sentence.strip(), kind="sentence")
                for sentence in _SENTENCE_END.split(joined)
                if sentence.strip()
            ]
    return units


def _quote(units: list[_Unit]) -> str:
    """Sentences as one quoted paragraph, list items as quoted lines, code and tables as
    they are (outside the quote, where Slack renders them)."""
    pieces: list[str] = []
    sentences: list[str] = []
    for unit in units:
        if unit.kind == "sentence":
            sentences.append(unit.text)
            continue
        if sentences:
            pieces.append("> " + " ".join(sentences))
            sentences = []
        pieces.append(f"> {unit.text}" if unit.kind == "item" else f"\n{unit.text}\n")
    if sentences:
        pieces.append("> " + " ".join(sentences))
    return "\n".join(pieces).strip("\n")


def _overlap(question_words: set[str], text: str) -> float:
    if not question_words:
        return 0.0
    return len(question_words & content_words(text)) / len(question_words)


def compose(
    *, question: str, passages: list[Passage], max_passages: int = 2, max_sentences: int = 3
) -> Extract:
    """Quote up to ``max_sentences`` sentences (or list items, code blocks, tables) from each
    of the best ``max_passages`` passages."""
    words = content_words(question)
    scored = [
        (_overlap(words, f"{passage.heading} {passage.text}"), index, passage)
        for index, passage in enumerate(passages)
    ]
    relevant = sorted(
        (item for item in scored if item[0] >= 0.34), key=lambda item: (-item[0], item[1])
    )[:max_passages]
    if not relevant:
        return Extract(text=NOT_COVERED, chunk_ids=[], covered=False)
    parts = ["Here is what the documentation says:"]
    for number, (_, _, passage) in enumerate(relevant, start=1):
        units = _units(passage.text)
        ranked = sorted(range(len(units)), key=lambda i: (-_overlap(words, units[i].text), i))[
            :max_sentences
        ]
        section = passage.heading.split(" > ")[-1].strip()
        where = (
            f"{passage.title}: {section}"
            if section and section != passage.title
            else (passage.title)
        )
        chosen = [units[i] for i in sorted(ranked)]
        # After a code block or a table, a blank line: the attribution is not one of its rows.
        gap = "\n\n" if chosen and chosen[-1].kind == "block" else "\n"
        parts.append(f"{_quote(chosen)}{gap}— _{where}_ [{number}]")
    return Extract(
        text="\n\n".join(parts),
        chunk_ids=[passage.chunk_id for _, _, passage in relevant],
        covered=True,
    )
