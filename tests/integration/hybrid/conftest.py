"""The hybrid search tests share the embedding tests' fixtures: both vector backends, a committing
session, the local model."""

from tests.integration.embeddings.conftest import backend, model, session

__all__ = ["backend", "model", "session"]
