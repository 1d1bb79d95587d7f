"""Search's ranking of its candidates: full text and meaning fused, then whole documents.

1. The full-text order: BM25 (scaled to at most 1) plus the reader's signals.
2. The semantic order: every candidate by its cosine to the question.
3. Reciprocal rank fusion of the two, the semantic one weighted.
4. A document several candidates come from is about the question: each of its sections gains
   the scores of the document's candidates beyond its best one, each counting less (the topic
   page beats a one-line mention in release notes).
5. One section per document first, then the rest: ten results from ten documents give the
   reader (and the answer) more to go on than ten from one.
6. A reviewed answer that matches the question about as well as the best section, in words
   and in meaning, comes first, wherever plain relevance put it.

The weights were tuned on bench/search_questions.json (its held-out set only checked).
"""

import collections
import dataclasses

from domain.knowledge.search_candidates import Candidate

# Reciprocal rank fusion: 1 / (k + rank) from each ranking, the semantic one weighted. A small
# k trusts the top of each ranking (tried from 2 to 60).
_RRF_K = 5
_SEMANTIC_WEIGHT = 0.5
# A section that shares no term with the question is a candidate only if this close in meaning:
# below it, "close" sections of a small corpus are merely the least far.
_MIN_SEMANTIC_ONLY_COSINE = 0.5
# Each section gains this share of its document's candidates' fused scores beyond the best
# one, in order, each one counting this much less than the one before.
_DOCUMENT_WEIGHT = 1.0
_DOCUMENT_DECAY = 0.9
# Sections of one document beyond this many are moved behind the others.
_MAX_PER_DOCUMENT = 1
# Re-ranking: the full-text score (scaled to at most 1) plus these signals, each in [0, 1].
_HEADING_WEIGHT = 0.35
_TITLE_WEIGHT = 0.2
_PATH_WEIGHT = 0.2
_ADJACENCY_WEIGHT = 0.3
# A reviewed answer matches well when it is about as close to the question as the best
# candidate both in words and in meaning: BM25 and cosine at least these shares of the best.
# (Words alone are not enough: a reviewed answer is short, and BM25 favours short sections.)
_REVIEWED_MIN_SHARE = 0.5
_REVIEWED_MIN_COSINE_SHARE = 0.85


def rank(candidates: list[Candidate]) -> list[Candidate]:
    """Best first, each with its score."""
    candidates = [c for c in candidates if c.base > 0 or c.cosine >= _MIN_SEMANTIC_ONLY_COSINE]
    if not candidates:
        return []
    fused = _fused(candidates)
    ranked = sorted(
        (dataclasses.replace(c, score=round(fused[c.chunk_id] * 100, 4)) for c in candidates),
        key=lambda c: (-c.score, c.chunk_id),
    )
    return _reviewed_first(_spread(ranked))


def _fused(candidates: list[Candidate]) -> dict[int, float]:
    """Reciprocal rank fusion of the full-text and semantic orders, then document support."""
    max_base = max(c.base for c in candidates)
    lexical = sorted(candidates, key=lambda c: (-_lexical_score(c, max_base=max_base), c.chunk_id))
    close = sorted((c for c in candidates if c.cosine > -1), key=lambda c: (-c.cosine, c.chunk_id))
    fused: dict[int, float] = {}
    for position, candidate in enumerate(lexical, start=1):
        fused[candidate.chunk_id] = 1 / (_RRF_K + position)
    for position, candidate in enumerate(close, start=1):
        fused[candidate.chunk_id] += _SEMANTIC_WEIGHT / (_RRF_K + position)
    by_document: dict[int, list[float]] = collections.defaultdict(list)
    for candidate in candidates:
        by_document[candidate.document_id].append(fused[candidate.chunk_id])
    support = {}  # beyond the document's best section, the others, decaying
    for document_id, scores in by_document.items():
        scores.sort(reverse=True)
        support[document_id] = sum(s * _DOCUMENT_DECAY**i for i, s in enumerate(scores[1:]))
    return {
        c.chunk_id: fused[c.chunk_id] + _DOCUMENT_WEIGHT * support[c.document_id]
        for c in candidates
    }


def _lexical_score(candidate: Candidate, *, max_base: float) -> float:
    """BM25 (scaled to at most 1) plus the reader's signals, each in [0, 1]."""
    return (
        (candidate.base / max_base if max_base > 0 else 0.0)
        + _HEADING_WEIGHT * candidate.heading
        + _TITLE_WEIGHT * candidate.title
        + _PATH_WEIGHT * candidate.path
        + _ADJACENCY_WEIGHT * candidate.adjacency
    )


def _spread(ranked: list[Candidate]) -> list[Candidate]:
    """The first ``_MAX_PER_DOCUMENT`` sections of each document first, in order, then the rest."""
    shown: collections.Counter[int] = collections.Counter()
    first: list[Candidate] = []
    later: list[Candidate] = []
    for candidate in ranked:
        shown[candidate.document_id] += 1
        (first if shown[candidate.document_id] <= _MAX_PER_DOCUMENT else later).append(candidate)
    return first + later


def _reviewed_first(ranked: list[Candidate]) -> list[Candidate]:
    """Reviewed answers that match well moved to the front (a stable sort keeps the rest)."""
    best = max(c.base for c in ranked)
    closest = max(c.cosine for c in ranked)

    def matches_well(candidate: Candidate) -> bool:
        return (
            candidate.reviewed
            and candidate.base >= _REVIEWED_MIN_SHARE * best
            # Without vectors (no word of the question known to the model), words decide.
            and (closest <= 0 or candidate.cosine >= _REVIEWED_MIN_COSINE_SHARE * closest)
        )

    return sorted(ranked, key=lambda c: not matches_well(c))
