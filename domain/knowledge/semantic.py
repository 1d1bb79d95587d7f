"""Semantic closeness: every section's cosine to the question, and the closest sections.

PostgreSQL here has no vector index (no pgvector), so the vectors are scored in numpy: each
process keeps every section's vector in one matrix (1 KiB a section, 7 MiB for Django's 7,000
sections) and multiplies it by the question's vector, about a millisecond; so every candidate of
the full-text stage gets its cosine too, not only the closest ones. The matrix is
reloaded when the index's generation (``knowledge_totals``, bumped by every change to the
chunks, migration ``0020_knowledge_incremental_index``) differs from the one it was loaded at,
so a change is seen by the next search in every process. docs/knowledge-base.md says how
pgvector would take this over on a much larger corpus.
"""

import dataclasses
import threading

import numpy as np
from django.db.backends.utils import CursorWrapper

from domain.knowledge import embeddings


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Matrix:
    generation: int
    ids: np.ndarray  # chunk ids, int64
    vectors: np.ndarray  # one unit row per chunk


_lock = threading.Lock()
_cache: list[_Matrix] = []


@dataclasses.dataclass(frozen=True, kw_only=True)
class Closeness:
    """Every section's cosine to one question."""

    ids: np.ndarray  # chunk ids, ascending
    scores: np.ndarray  # the cosine of each

    def nearest(self, *, limit: int) -> list[int]:
        """The ``limit`` closest chunks' ids, best first."""
        count = min(limit, len(self.scores))
        if count <= 0:
            return []
        best = np.argpartition(-self.scores, count - 1)[:count]
        best = best[np.lexsort((self.ids[best], -self.scores[best]))]
        return [int(self.ids[i]) for i in best]

    def of(self, *, chunk_ids: list[int]) -> list[float]:
        """Each chunk's cosine; -1 for one without a vector (written since the matrix loaded)."""
        if not chunk_ids or not len(self.ids):
            return [-1.0] * len(chunk_ids)
        wanted = np.asarray(chunk_ids, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        found = self.ids[at] == wanted
        return [float(s) if f else -1.0 for s, f in zip(self.scores[at], found, strict=True)]


_NOTHING = Closeness(ids=np.zeros(0, dtype=np.int64), scores=np.zeros(0, dtype=np.float32))


def closeness(*, cursor: CursorWrapper, generation: int, query: str) -> Closeness:
    """How close in meaning each section is to ``query`` (none when the model knows no word)."""
    matrix = _matrix(cursor=cursor, generation=generation)
    if not len(matrix.ids):
        return _NOTHING
    [vector] = embeddings.embed(texts=[query])
    if not vector.any():
        return _NOTHING  # no word of the question is known to the model
    # einsum's own loop, not BLAS: OpenBLAS wakes its threads for each product, which costs
    # 10-30 ms on a busy machine against half a millisecond on one core.
    return Closeness(ids=matrix.ids, scores=np.einsum("ij,j->i", matrix.vectors, vector))


def _matrix(*, cursor: CursorWrapper, generation: int) -> _Matrix:
    with _lock:
        if _cache and _cache[0].generation == generation:
            return _cache[0]
        cursor.execute(
            "SELECT id, embedding FROM data_chunk WHERE embedding IS NOT NULL ORDER BY id"
        )
        rows = cursor.fetchall()
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        data = b"".join(bytes(row[1]) for row in rows)
        vectors = np.frombuffer(data, dtype="<f4").reshape(len(rows), embeddings.DIMENSIONS)
        matrix = _Matrix(generation=generation, ids=ids, vectors=vectors)
        _cache[:] = [matrix]
        return matrix
