"""Semantic vectors for sections and questions: wordllama's 256-dimension model, offline.

wordllama ships its weights and tokenizer inside its wheel, so nothing is downloaded: the
package directory is given as the cache directory (where the tokenizer sits, under
``tokenizers/``), downloads are disabled, and ``HF_HUB_OFFLINE`` is set before the tokenizers
library is imported. The model is a token-embedding average (no transformer), computed here
rather than by wordllama's ``embed``, which pads each batch to its longest text and so moves
a few hundred megabytes per thousand sections: tokenizing is most of the cost, about 0.3 ms a
section on one core (2 s for Django's 7,000 sections), and loading takes 0.6 s per process.

Vectors are stored as 256 little-endian float32 (1 KiB a section) and compared by cosine.
"""

import functools
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from domain.knowledge import chunking

if TYPE_CHECKING:
    from wordllama.inference import WordLlamaInference

DIMENSIONS = 256
_DTYPE = np.dtype("<f4")
_lock = threading.Lock()


@functools.cache
def _model() -> "WordLlamaInference":
    os.environ["HF_HUB_OFFLINE"] = "1"  # never reach the hub, whatever a library falls back to
    import wordllama

    model = wordllama.WordLlama.load(
        dim=DIMENSIONS, cache_dir=Path(wordllama.__file__).parent, disable_download=True
    )
    model.tokenizer.no_padding()  # each text's own tokens only (see embed)
    return model


def model_loaded() -> bool:
    return _model.cache_info().currsize > 0


def embed(*, texts: Sequence[str]) -> np.ndarray:
    """Unit-length vectors, one row per text (zeros for a text with no known token)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    with _lock:  # loading is not thread-safe; inference is cheap enough to serialise
        model = _model()
        encodings = model.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
    table = model.embedding
    vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    for row, encoding in enumerate(encodings):
        if not encoding.ids:
            continue
        # The average of the tokens' rows (what wordllama computes), summed once per distinct
        # token: a section repeats its words, and no padded batch is built.
        ids, counts = np.unique(np.asarray(encoding.ids, dtype=np.int64), return_counts=True)
        np.clip(ids, 0, len(table) - 1, out=ids)
        vectors[row] = counts.astype(np.float32) @ table[ids]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def section_text(*, heading_path: str, text: str) -> str:
    """What a section's vector is computed from: its headings say what it is about."""
    return f"{heading_path}\n{text}" if heading_path else text


def chunk_vectors(*, chunks: Sequence[chunking.ChunkDraft]) -> list[bytes]:
    """The chunks' vectors, as stored."""
    matrix = embed(texts=[section_text(heading_path=c.heading_path, text=c.text) for c in chunks])
    return [to_bytes(row) for row in matrix]


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=_DTYPE).tobytes()


def from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(data, dtype=_DTYPE)
