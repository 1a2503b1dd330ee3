"""The vector index interface: per-generation vector collections reached through movable aliases.

Every (tenant, collection, generation) has its own vector collection, named by
`vector_collection_name`; every (tenant, collection) has one alias, named by `vector_alias_name`,
that points at the generation searches should see. Writers fill a generation's collection by its
name; readers search through the alias; the blue-green swap moves the alias in one call
(`swap_alias`), so a search sees either the old generation or the new one, never a mix.

Scores are cosine similarities (higher is closer). Point ids are UUIDs (the record ids).
Errors: a store that cannot be reached raises `Unavailable`; an unknown collection or alias raises
`NotFound`; a wrong vector size raises `InvalidInput`; dropping a collection an alias still points
at raises `Conflict`.
"""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.vectors.filters import VectorFilter

#: a transaction the pgvector backend joins when moving an alias (Qdrant's moves are immediate)
Transaction = sa.Connection | Session

_NAME_RE = re.compile(r"^[a-z0-9_]{1,200}$")


class VectorHit(NamedTuple):
    """One search result: the point (record) id and its cosine similarity to the query."""

    id: uuid.UUID
    score: float


def vector_collection_name(
    tenant_id: uuid.UUID | str, collection_id: uuid.UUID | str, generation: int
) -> str:
    """The vector collection holding one generation of one tenant's collection."""
    return f"{vector_alias_name(tenant_id, collection_id)}_g{int(generation)}"


def vector_alias_name(tenant_id: uuid.UUID | str, collection_id: uuid.UUID | str) -> str:
    """The alias through which a tenant's collection is searched (points at its live generation)."""
    return f"t{uuid.UUID(str(tenant_id)).hex}_c{uuid.UUID(str(collection_id)).hex}"


def check_name(name: str) -> str:
    """`name` if it is a valid collection or alias name (lowercase letters, digits, `_`)."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidInput(f"invalid vector collection or alias name: {name!r}")
    return name


def as_matrix(vectors: np.ndarray | Sequence[Sequence[float]], dimension: int, count: int) -> np.ndarray:
    """`vectors` as a `(count, dimension)` float32 matrix, or InvalidInput."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape != (count, dimension):
        raise InvalidInput(f"expected {count} vectors of dimension {dimension}, got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise InvalidInput("vectors contain NaN or infinity")
    return matrix


def as_ids(ids: Sequence[uuid.UUID | str]) -> list[uuid.UUID]:
    """Point ids as UUIDs, or InvalidInput."""
    try:
        return [i if isinstance(i, uuid.UUID) else uuid.UUID(str(i)) for i in ids]
    except ValueError as exc:
        raise InvalidInput(f"point ids must be UUIDs: {exc}") from exc


def as_point_ids(ids: Sequence[uuid.UUID | str], payloads: Sequence[Mapping[str, Any]] | None) -> list[uuid.UUID]:
    """The ids of an upsert as UUIDs, checked against the payloads' count (InvalidInput)."""
    point_ids = as_ids(ids)
    if payloads is not None and len(payloads) != len(point_ids):
        raise InvalidInput(f"{len(point_ids)} ids but {len(payloads)} payloads")
    return point_ids


class VectorIndex(ABC):
    """A vector store with per-generation collections and aliases; see the module docstring."""

    #: True when `swap_alias(..., transaction=...)` commits or rolls back with that transaction
    transactional_aliases: bool = False

    # collections
    @abstractmethod
    def create_collection(self, name: str, dimension: int, *, defer_index: bool = False) -> None:
        """Create an empty collection; a no-op if it exists with that dimension (Conflict if another).

        With `defer_index`, a backend that maintains its ANN index on every insert (pgvector) leaves
        it out until `build_index`: a bulk load then runs several times faster, and searches stay
        correct (exact) meanwhile, only slower on large collections.
        """

    def build_index(self, name: str) -> bool:
        """Build the ANN index a collection was created without; True if one was built now."""
        return False

    def index_ready(self, name: str) -> bool:
        """Whether the collection's ANN index exists (searches are fast at any size)."""
        return True

    @abstractmethod
    def drop_collection(self, name: str) -> bool:
        """Drop a collection and its points; False if it did not exist; Conflict while aliased."""

    @abstractmethod
    def collection_exists(self, name: str) -> bool:
        """Whether a collection (not an alias) of this name exists."""

    @abstractmethod
    def list_collections(self, prefix: str = "") -> list[str]:
        """Names of the collections starting with `prefix`, sorted."""

    @abstractmethod
    def dimension(self, name: str) -> int:
        """The vector size of a collection or of the collection an alias points at."""

    # points
    @abstractmethod
    def upsert(
        self,
        name: str,
        ids: Sequence[uuid.UUID | str],
        vectors: np.ndarray | Sequence[Sequence[float]],
        payloads: Sequence[Mapping[str, Any]] | None = None,
    ) -> int:
        """Insert or replace points (vector and payload) by id; returns how many were written."""

    @abstractmethod
    def delete(self, name: str, ids: Sequence[uuid.UUID | str]) -> None:
        """Remove points by id; ids that are absent are ignored."""

    @abstractmethod
    def count(self, name: str, filter: VectorFilter | None = None) -> int:
        """Exact number of points in a collection (or behind an alias), optionally filtered."""

    @abstractmethod
    def search(
        self,
        name: str,
        vector: np.ndarray | Sequence[float],
        limit: int = 10,
        filter: VectorFilter | None = None,
    ) -> list[VectorHit]:
        """The `limit` points nearest to `vector` that match `filter`, best first.

        `name` may be an alias or a collection; the filter applies inside the vector search, so a
        selective filter still returns up to `limit` matching points.
        """

    @abstractmethod
    def payloads(self, name: str, ids: Sequence[uuid.UUID | str]) -> dict[uuid.UUID, dict[str, Any]]:
        """The stored payloads of the given points that exist."""

    # aliases
    @abstractmethod
    def resolve_alias(self, alias: str) -> str | None:
        """The collection an alias points at, or None when there is no such alias."""

    def set_alias(self, alias: str, collection: str) -> None:
        """Point `alias` at `collection` (creating the alias or moving it)."""
        self.swap_alias(alias, collection)

    @abstractmethod
    def swap_alias(
        self,
        alias: str,
        collection: str,
        *,
        expected: str | None = None,
        transaction: Transaction | None = None,
    ) -> str | None:
        """Move `alias` to `collection` in one atomic step; returns where it pointed before.

        With `expected`, the move happens only if the alias points there now (else Conflict), so
        two racing swaps cannot both win. With `transaction` on a backend whose
        `transactional_aliases` is True, the move commits or rolls back with that transaction;
        other backends move at once and a caller that must undo calls `swap_alias` back.
        """

    @abstractmethod
    def delete_alias(self, alias: str) -> bool:
        """Remove an alias (its collection stays); False if there was none."""

    @abstractmethod
    def aliases(self) -> dict[str, str]:
        """Every alias and the collection it points at."""

    def warm(self) -> None:
        """Open what the first search would otherwise open (a connection, the client); Unavailable
        when the store cannot be reached."""
        self.collection_exists("kariz-warm-up")

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
