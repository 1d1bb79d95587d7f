"""Extractive answers: quote the best-matching sentences of retrieved passages, never invent.

This is what the ``offline`` model answers with. A passage counts as relevant only when it
shares enough of the question's content words; otherwise the answer says plainly that the
documentation does not cover the question.
"""

import dataclasses
import re

NOT_COVERED = "I couldn't find this in the documentation, so I won't guess."
_WORD = re.compile(r"[a-z0-9][a-z0-9_+#.-]*[a-z0-9]|[a-z0-9]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n{2,}")
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


def _overlap(question_words: set[str], text: str) -> float:
    if not question_words:
        return 0.0
    return len(question_words & content_words(text)) / len(question_words)


def compose(
    *, question: str, passages: list[Passage], max_passages: int = 2, max_sentences: int = 3
) -> Extract:
    """Quote up to ``max_sentences`` sentences from each of the best ``max_passages`` passages."""
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
        sentences = [s.strip() for s in _SENTENCE_END.split(passage.text) if s.strip()]
        ranked = sorted(range(len(sentences)), key=lambda i: (-_overlap(words, sentences[i]), i))[
            :max_sentences
        ]
        quoted = " ".join(sentences[i] for i in sorted(ranked)).replace("\n", " ")
        section = passage.heading.split(" > ")[-1].strip()
        where = (
            f"{passage.title}: {section}"
            if section and section != passage.title
            else (passage.title)
        )
        parts.append(f"> {quoted}\n— _{where}_ [{number}]")
    return Extract(
        text="\n\n".join(parts),
        chunk_ids=[passage.chunk_id for _, _, passage in relevant],
        covered=True,
    )
