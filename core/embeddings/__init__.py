"""Embeddings: the provider interface (local MiniLM or an OpenAI-compatible endpoint) and the text
each record is embedded from."""

from core.embeddings.base import EmbeddingProvider
from core.embeddings.factory import get_embedding_provider, make_embedding_provider
from core.embeddings.text import build_embedding_text

__all__ = ["EmbeddingProvider", "build_embedding_text", "get_embedding_provider", "make_embedding_provider"]
