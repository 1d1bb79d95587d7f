"""Semantic candidates: the sections whose vectors are closest to the question's, by cosine.

PostgreSQL here has no vector index (no pgvector), so the vectors are scored in numpy: each
process keeps every section's vector in one matrix (1 KiB a section, 7 MiB for Django's 7,000
sections) and multiplies it by the question's vector, about a millisecond. The matrix is
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


def nearest(
    *, cursor: CursorWrapper, generation: int, query: str, limit: int
) -> list[tuple[int, float]]:
    """The ``limit`` chunks closest in meaning to ``query``: (chunk id, cosine), best first."""
    matrix = _matrix(cursor=cursor, generation=generation)
    if not len(matrix.ids):
        return []
    [vector] = embeddings.embed(texts=[query])
    if not vector.any():
        return []  # no word of the question is known to the model
    scores = matrix.vectors @ vector
    count = min(limit, len(scores))
    best = np.argpartition(-scores, count - 1)[:count]
    best = best[np.lexsort((matrix.ids[best], -scores[best]))]
    return [(int(matrix.ids[i]), float(scores[i])) for i in best]


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
