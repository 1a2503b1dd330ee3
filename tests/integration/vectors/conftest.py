"""The vector index backends under one fixture: every test here runs on pgvector and on Qdrant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from core.vectors.base import VectorIndex, vector_alias_name, vector_collection_name
from core.vectors.pgvector import PgVectorIndex
from core.vectors.qdrant import QdrantIndex


@pytest.fixture(scope="session")
def pgvector_index(database_url: str) -> Iterator[PgVectorIndex]:
    index = PgVectorIndex(database_url)
    yield index
    index.close()


@pytest.fixture(params=["pgvector", "qdrant"])
def index(request: pytest.FixtureRequest) -> Iterator[VectorIndex]:
    """A pgvector index on the session's embedded PostgreSQL, or a fresh Qdrant local-mode store."""
    if request.param == "pgvector":
        yield request.getfixturevalue("pgvector_index")
        return
    qdrant = QdrantIndex(":memory:")
    yield qdrant
    qdrant.close()


class Names:
    """Collection and alias names for one fresh (tenant, collection)."""

    def __init__(self) -> None:
        self.tenant_id = uuid.uuid4()
        self.collection_id = uuid.uuid4()
        self.alias = vector_alias_name(self.tenant_id, self.collection_id)

    def generation(self, number: int) -> str:
        return vector_collection_name(self.tenant_id, self.collection_id, number)


@pytest.fixture
def names() -> Names:
    return Names()
