"""Section vectors are wordllama's own, computed without its padded batches."""

from pathlib import Path

import numpy as np
import wordllama

from domain.knowledge import embeddings

TEXTS = [
    "Models > Managers\nA manager is the interface through which queries are provided.",
    "   spaced    out\n\n\ttabs and   runs of spaces  ",
    "naïve café, 日本語, emoji 🚀 and <s> markers </s>",
    "x" * 3000,
    "Tabs\tand\nnew\n\n  lines, trailing spaces  ",
    " leading space, non-breaking\u00a0space, (brackets), dotted.names() and snake_case",
    "",
]


def test_vectors_are_wordllamas_average_of_token_embeddings():
    model = wordllama.WordLlama.load(
        dim=embeddings.DIMENSIONS,
        cache_dir=Path(wordllama.__file__).parent,
        disable_download=True,
    )
    expected = np.asarray(model.embed(TEXTS, norm=False), dtype=np.float32)
    norms = np.linalg.norm(expected, axis=1, keepdims=True)
    expected = np.divide(expected, norms, out=np.zeros_like(expected), where=norms > 0)

    vectors = embeddings.embed(texts=TEXTS)

    assert vectors.shape == (len(TEXTS), embeddings.DIMENSIONS)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    assert not vectors[-1].any()  # no token: no direction


def test_word_by_word_tokens_are_the_tokenizers_own():
    tokens = embeddings._tokens()
    assert tokens.by_word  # the shortcut applies to the model wordllama ships
    expected = [
        encoding.ids
        for encoding in tokens.tokenizer.encode_batch_fast(TEXTS, add_special_tokens=False)
    ]

    assert tokens.ids(TEXTS) == expected
    assert tokens.ids(TEXTS) == expected  # from the cache, the same
