"""The offline MiniLM provider: real model, real tokenizer, compared with the fp32 original."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.embeddings.local_minilm import LocalMiniLMProvider
from core.errors import InvalidInput

REFERENCE = json.loads((Path(__file__).parent / "reference_vectors.json").read_text())


def test_vectors_are_384_float32_unit_rows_in_input_order(model: LocalMiniLMProvider) -> None:
    texts = ["stainless steel bolt", "a recipe for bread", "stainless steel bolt"]
    vectors = model.embed(texts)
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[2])
    assert model.embed([]).shape == (0, 384)


def test_agrees_with_the_fp32_sentence_transformers_model(model: LocalMiniLMProvider) -> None:
    # reference vectors were computed by sentence-transformers on the original fp32 weights
    ours = model.embed(REFERENCE["texts"])
    reference = np.asarray(REFERENCE["vectors"], dtype=np.float32)
    cosines = (ours * reference).sum(axis=1)
    assert cosines.min() > 0.99, cosines


def test_empty_and_non_latin_texts_embed(model: LocalMiniLMProvider) -> None:
    texts = ["", "   ", "Привет, мир", "日本語のテキスト", "مرحبا بالعالم", "🙂🚀"]
    vectors = model.embed(texts)
    assert np.isfinite(vectors).all()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_long_text_is_truncated_at_256_word_pieces_deterministically(model: LocalMiniLMProvider) -> None:
    words = [f"word{i}" for i in range(2000)]
    head = " ".join(words[:600])
    longer = " ".join(words)
    assert max(len(ids) for ids in model.tokenize([head, longer])) == model.max_tokens == 256
    a, b = model.embed([head, longer])
    assert np.array_equal(a, b)  # what lies past the limit cannot change the vector
    assert np.array_equal(model.embed([longer])[0], model.embed([longer])[0])


def test_batching_does_not_change_vectors(model: LocalMiniLMProvider) -> None:
    texts = ["short", "a somewhat longer sentence about hydraulic pumps and valves", "mid length text"] * 12
    together = model.embed(texts)
    alone = np.vstack([model.embed([t]) for t in texts[:3]])
    assert np.allclose(together[:3], alone, atol=1e-4)


def test_similar_meanings_score_higher(model: LocalMiniLMProvider) -> None:
    car, automobile, banana = model.embed(["a fast car", "a quick automobile", "a ripe banana"])
    assert car @ automobile > car @ banana + 0.2


def test_non_strings_are_refused(model: LocalMiniLMProvider) -> None:
    with pytest.raises(InvalidInput):
        model.embed(["ok", None])  # type: ignore[list-item]
    with pytest.raises(InvalidInput):
        model.embed("a single string")
