"""The embedding provider factory: the one `settings.embedding_provider` names, made once a process.

Implementations import only the interface (`core.embeddings.base`); this module imports them, so
the two never import each other."""

from __future__ import annotations

import threading

from core.embeddings.base import EmbeddingProvider
from core.errors import InvalidInput
from core.settings import Settings, get_settings


def make_embedding_provider(settings: Settings) -> EmbeddingProvider:
    """A new provider as `settings.embedding_provider` says (`local` or `openai`)."""
    if settings.embedding_provider == "openai":
        from core.embeddings.openai_http import OpenAICompatibleProvider

        if not settings.embedding_url:
            raise InvalidInput("embedding_provider=openai needs KARIZ_EMBEDDING_URL")
        key = settings.embedding_api_key.get_secret_value() if settings.embedding_api_key else None
        return OpenAICompatibleProvider(settings.embedding_url, settings.embedding_model, api_key=key)
    from core.embeddings.local_minilm import LocalMiniLMProvider

    return LocalMiniLMProvider()


_PROVIDERS: dict[tuple[str, ...], EmbeddingProvider] = {}
_PROVIDERS_LOCK = threading.Lock()


def get_embedding_provider(settings: Settings | None = None) -> EmbeddingProvider:
    """The process-wide provider for `settings` (default: `get_settings()`); the model loads once."""
    settings = settings or get_settings()
    key = (
        settings.embedding_provider,
        settings.embedding_url or "",
        settings.embedding_model,
        settings.embedding_api_key.get_secret_value() if settings.embedding_api_key else "",
    )
    with _PROVIDERS_LOCK:
        if key not in _PROVIDERS:
            _PROVIDERS[key] = make_embedding_provider(settings)
        return _PROVIDERS[key]
