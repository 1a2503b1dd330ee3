"""The embedding provider interface (the factory that picks one is `core.embeddings.factory`).

A provider turns texts into unit-length float32 vectors. Two implementations exist: the local,
offline MiniLM model (`core.embeddings.local_minilm`) and any OpenAI-compatible `/v1/embeddings`
endpoint (`core.embeddings.openai_http`). Errors a retry may cure (endpoint down, rate limited,
model not loadable right now) are raised as `core.errors.Unavailable`; input the provider will
never accept is raised as `core.errors.InvalidInput`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from core.errors import InvalidInput

DEFAULT_DIMENSION = 384


class EmbeddingProvider(ABC):
    """Something that embeds texts: `embed(texts) -> (n, dimension) float32`, rows L2-normalised."""

    #: the model the vectors come from (stored beside vectors so a model change is detectable)
    model_name: str
    #: length of every vector
    dimension: int
    #: longest input, in the model's tokens; longer inputs are truncated deterministically
    max_tokens: int

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length float32 row per text, in input order; `(0, dimension)` for no texts."""

    def embed_one(self, text: str) -> np.ndarray:
        """The vector of a single text, shape `(dimension,)`."""
        return self.embed([text])[0]


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 length (as torch's `F.normalize`, eps 1e-12), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def check_texts(texts: Sequence[str]) -> list[str]:
    """The texts as a list, refusing anything that is not a string (None, bytes, numbers)."""
    if isinstance(texts, str):
        raise InvalidInput("embed() takes a list of texts, not a single string")
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise InvalidInput(f"text {i} is {type(text).__name__}, not str")
    return out
