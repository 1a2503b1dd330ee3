"""An embedding provider for any OpenAI-compatible `/v1/embeddings` endpoint (httpx, synchronous).

Transient trouble (connection refused, timeouts, 429, 5xx, rejected credentials) raises
`Unavailable`, so the embedding pipeline retries later; a 4xx about the input raises `InvalidInput`,
so the record fails with the endpoint's reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from core.embeddings.base import DEFAULT_DIMENSION, EmbeddingProvider, check_texts, normalise_rows
from core.errors import InvalidInput, Unavailable

#: statuses that say "not now" rather than "never": retry later
_TRANSIENT = {401, 403, 404, 408, 409, 425, 429}


def embeddings_endpoint(url: str) -> str:
    """The full embeddings URL for a base URL: `http://h/v1` and `http://h` both give `http://h/v1/embeddings`."""
    url = url.rstrip("/")
    if url.endswith("/embeddings"):
        return url
    if url.endswith("/v1"):
        return url + "/embeddings"
    return url + "/v1/embeddings"


class OpenAICompatibleProvider(EmbeddingProvider):
    """Embeddings from a remote (or local) server speaking the OpenAI embeddings protocol."""

    def __init__(
        self,
        url: str,
        model: str,
        *,
        api_key: str | None = None,
        dimension: int = DEFAULT_DIMENSION,
        max_tokens: int = 256,
        max_input_chars: int = 16_384,
        batch_size: int = 64,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint = embeddings_endpoint(url)
        self.model_name = model
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.max_input_chars = max_input_chars
        self.batch_size = max(1, batch_size)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=timeout_s, transport=transport)

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 rows in input order; inputs cut at `max_input_chars` characters."""
        texts = [t[: self.max_input_chars] for t in check_texts(texts)]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            out[start : start + len(batch)] = self._embed_batch(batch)
        return out

    def _embed_batch(self, batch: list[str]) -> np.ndarray:
        body = {"model": self.model_name, "input": batch, "encoding_format": "float"}
        try:
            response = self._client.post(self.endpoint, json=body)
        except httpx.HTTPError as exc:
            raise Unavailable(f"embedding endpoint {self.endpoint} unreachable: {exc}") from exc
        if response.status_code >= 500 or response.status_code in _TRANSIENT:
            raise Unavailable(f"embedding endpoint answered {response.status_code}: {_reason(response)}")
        if response.status_code >= 400:
            raise InvalidInput(
                f"embedding endpoint refused the input ({response.status_code}): {_reason(response)}"
            )
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = np.asarray([item["embedding"] for item in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise Unavailable(f"embedding endpoint sent an unreadable answer: {exc}") from exc
        if vectors.shape != (len(batch), self.dimension):
            raise Unavailable(
                f"embedding endpoint sent vectors of shape {vectors.shape}, expected {(len(batch), self.dimension)}"
            )
        return normalise_rows(vectors)


def _reason(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and "message" in error:
            return str(error["message"])[:300]
        if "detail" in body:
            return str(body["detail"])[:300]
    return str(body)[:300]
