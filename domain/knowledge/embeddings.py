"""Semantic vectors for sections and questions: wordllama's 256-dimension model, offline.

wordllama ships its weights and tokenizer inside its wheel, so nothing is downloaded: the
package directory is given as the cache directory (where the tokenizer sits, under
``tokenizers/``), downloads are disabled, and ``HF_HUB_OFFLINE`` is set before the tokenizers
library is imported. The model is a token-embedding average (no transformer), computed here
rather than by wordllama's ``embed``, which pads each batch to its longest text and so moves
a few hundred megabytes per thousand sections. Tokenizing is most of the cost; it is done
word by word with a cache of each word's tokens (``_Tokens``), half the time of the tokenizer's
own pass over whole sections, with the same tokens. Loading takes 0.6 s per process.

Vectors are stored as 256 little-endian float32 (1 KiB a section) and compared by cosine.
"""

import functools
import itertools
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from domain.knowledge import chunking

if TYPE_CHECKING:
    from tokenizers import Tokenizer
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


@functools.cache
def _tokens() -> "_Tokens":
    return _Tokens(_model().tokenizer)


class _Tokens:
    """Texts' token ids, exactly the tokenizer's, found word by word with a cache.

    The model's tokenizer (SentencePiece BPE, Llama's vocabulary) has no pre-tokenizer: it
    runs BPE over each whole text, after a space becomes ``▁`` and one is put in front. No
    token of its vocabulary has a ``▁`` after another character, so no token spans the start
    of a word: a text's tokens are its words' tokens, one after another, and each distinct
    word is tokenized once. A tokenizer not shaped like that, or a text holding a special
    token (``<s>``), goes through the tokenizer whole.
    """

    WORD = re.compile("\u2581*[^\u2581]+|\u2581+")  # a word and the ▁s before it
    CACHE_LIMIT = 200_000  # words kept (a few tens of megabytes at most)

    def __init__(self, tokenizer: "Tokenizer") -> None:
        self.tokenizer = tokenizer
        self.special = tuple(t.content for t in tokenizer.get_added_tokens_decoder().values())
        self.cache: dict[str, list[int]] = {}
        normalizer = repr(tokenizer.normalizer)
        self.by_word = (
            tokenizer.pre_tokenizer is None
            and normalizer.startswith('Sequence(normalizers=[Prepend(prepend="\u2581"), Replace(')
            and normalizer.count("(") == 4  # those two normalizers and nothing else
            and not any(re.search("[^\u2581]\u2581", token) for token in tokenizer.get_vocab())
        )

    def ids(self, texts: list[str]) -> list[list[int]]:
        if not self.by_word:
            return [
                e.ids for e in self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)
            ]
        return [self._text(text) for text in texts]

    def _text(self, text: str) -> list[int]:
        if not text:
            return []
        if any(special in text for special in self.special):
            [encoding] = self.tokenizer.encode_batch_fast([text], add_special_tokens=False)
            return encoding.ids
        if len(self.cache) > self.CACHE_LIMIT:
            self.cache.clear()
        words = self.WORD.findall("\u2581" + text.replace(" ", "\u2581"))
        return list(itertools.chain.from_iterable(map(self._word, words)))

    def _word(self, word: str) -> list[int]:
        ids = self.cache.get(word)
        if ids is None:
            ids = self.cache[word] = [token.id for token in self.tokenizer.model.tokenize(word)]
        return ids


def model_loaded() -> bool:
    return _model.cache_info().currsize > 0


def embed(*, texts: Sequence[str]) -> np.ndarray:
    """Unit-length vectors, one row per text (zeros for a text with no known token)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    with _lock:  # loading and the word cache are not thread-safe; tokenizing is quick
        table = _model().embedding
        token_ids = _tokens().ids(list(texts))
    vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    for row, text_ids in enumerate(token_ids):
        if not text_ids:
            continue
        # The average of the tokens' rows (what wordllama computes), summed once per distinct
        # token: a section repeats its words, and no padded batch is built.
        ids, counts = np.unique(np.asarray(text_ids, dtype=np.int64), return_counts=True)
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
