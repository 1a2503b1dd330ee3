"""The vector index on Qdrant (`qdrant-client`): a server at `QDRANT_URL`, or local mode.

Local mode (`":memory:"` or a folder path) runs inside this process and lets only one process open
a store; it serves tests and single-process use. Aliases are Qdrant aliases; a swap is one
`update_collection_aliases` call (delete + create), which Qdrant applies atomically. Qdrant has no
transactions, so `swap_alias(transaction=...)` moves the alias at once; a caller that must undo
moves it back.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from core.errors import Conflict, InvalidInput, NotFound, Unavailable
from core.vectors.base import Transaction, VectorHit, VectorIndex, as_ids, as_matrix, as_point_ids, check_name
from core.vectors.filters import Match, MatchAny, Range, VectorFilter

log = logging.getLogger(__name__)

UPSERT_BATCH = 512


def qdrant_filter(filter: VectorFilter | None) -> qm.Filter | None:
    """The Qdrant form of a backend-neutral filter (None when it has no conditions)."""
    if not filter:
        return None
    must: list[qm.Condition] = []
    for cond in filter.must:
        if isinstance(cond, Match):
            if isinstance(cond.value, float) and not isinstance(cond.value, bool):
                # Qdrant matches only keywords, integers and booleans exactly; a float is a point range
                must.append(qm.FieldCondition(key=cond.field, range=qm.Range(gte=cond.value, lte=cond.value)))
            else:
                must.append(qm.FieldCondition(key=cond.field, match=qm.MatchValue(value=cond.value)))
        elif isinstance(cond, MatchAny):
            must.append(qm.FieldCondition(key=cond.field, match=qm.MatchAny(any=list(cond.values))))
        elif isinstance(cond, Range):
            must.append(
                qm.FieldCondition(
                    key=cond.field, range=qm.Range(gt=cond.gt, gte=cond.gte, lt=cond.lt, lte=cond.lte)
                )
            )
        else:  # pragma: no cover - the Condition union is closed
            raise InvalidInput(f"unsupported filter condition {cond!r}")
    return qm.Filter(must=must)


def make_qdrant_client(location: str, *, timeout_s: float = 10.0) -> QdrantClient:
    """A client for a server URL (`http(s)://...`), `":memory:"`, or a local-mode folder path."""
    if location == ":memory:":
        return QdrantClient(location=":memory:")
    if location.startswith(("http://", "https://")):
        return QdrantClient(
            url=location, timeout=int(max(1, timeout_s)), prefer_grpc=False, check_compatibility=False
        )
    return QdrantClient(path=location)


class QdrantIndex(VectorIndex):
    """Vector collections and aliases in Qdrant."""

    transactional_aliases = False

    def __init__(self, client: QdrantClient | str) -> None:
        self.client = make_qdrant_client(client) if isinstance(client, str) else client
        self.location = client if isinstance(client, str) else "client"

    def close(self) -> None:
        """Close the client (a local-mode store is released for other processes)."""
        self.client.close()

    @contextmanager
    def _errors(self, name: str | None = None) -> Iterator[None]:
        try:
            yield
        except (ResponseHandlingException, httpx.TransportError, ConnectionError, TimeoutError) as exc:
            raise Unavailable(f"vector store (Qdrant at {self.location}) unreachable: {exc}") from exc
        except UnexpectedResponse as exc:
            if exc.status_code == 404:
                raise NotFound(f"vector collection or alias {name!r} not found") from exc
            if exc.status_code in (400, 422):
                raise InvalidInput(f"Qdrant refused the request: {exc.content[:300]!r}") from exc
            raise Unavailable(f"Qdrant answered {exc.status_code}: {exc.content[:300]!r}") from exc
        except ValueError as exc:  # local mode speaks ValueError for missing collections and bad sizes
            message = str(exc)
            if "not found" in message.lower():
                raise NotFound(f"vector collection or alias {name!r} not found") from exc
            raise InvalidInput(message) from exc

    def _is_collection(self, name: str) -> bool:
        # local mode's collection_exists also answers True for an alias
        return bool(self.client.collection_exists(name)) and self.resolve_alias(name) is None

    def _require(self, name: str) -> None:
        """NotFound unless `name` is a collection or an alias."""
        check_name(name)
        if not self.client.collection_exists(name) and self.resolve_alias(name) is None:
            raise NotFound(f"vector collection or alias {name!r} not found")

    # collections
    def create_collection(self, name: str, dimension: int, *, defer_index: bool = False) -> None:
        # Qdrant builds its HNSW graph in the background by itself: nothing to defer
        check_name(name)
        if not isinstance(dimension, int) or not 0 < dimension <= 65_536:
            raise InvalidInput(f"invalid vector dimension {dimension!r}")
        with self._errors(name):
            if self._is_collection(name):
                existing = self.dimension(name)
                if existing != dimension:
                    raise Conflict(
                        f"vector collection {name!r} exists with dimension {existing}, not {dimension}"
                    )
                return
            if self.resolve_alias(name) is not None:
                raise Conflict(f"{name!r} is already an alias")
            self.client.create_collection(
                name, vectors_config=qm.VectorParams(size=dimension, distance=qm.Distance.COSINE)
            )
        log.info("created vector collection %s (dim %d)", name, dimension)

    def drop_collection(self, name: str) -> bool:
        check_name(name)
        with self._errors(name):
            if not self._is_collection(name):
                return False
            aliases = [a.alias_name for a in self.client.get_collection_aliases(name).aliases]
            if aliases:
                raise Conflict(f"vector collection {name!r} is still reached through alias {aliases[0]!r}")
            self.client.delete_collection(name)
        log.info("dropped vector collection %s", name)
        return True

    def collection_exists(self, name: str) -> bool:
        with self._errors(name):
            return self._is_collection(name)

    def list_collections(self, prefix: str = "") -> list[str]:
        with self._errors():
            return sorted(
                c.name for c in self.client.get_collections().collections if c.name.startswith(prefix)
            )

    def dimension(self, name: str) -> int:
        self._require(name)
        with self._errors(name):
            vectors = self.client.get_collection(name).config.params.vectors
        size = vectors.size if isinstance(vectors, qm.VectorParams) else None
        if size is None:
            raise InvalidInput(f"vector collection {name!r} has named vectors, which Kariz does not use")
        return int(size)

    # points
    def upsert(
        self,
        name: str,
        ids: Sequence[uuid.UUID | str],
        vectors: np.ndarray | Sequence[Sequence[float]],
        payloads: Sequence[Mapping[str, Any]] | None = None,
    ) -> int:
        point_ids = as_point_ids(ids, payloads)
        if not point_ids:
            return 0
        matrix = as_matrix(vectors, self.dimension(name), len(point_ids))
        with self._errors(name):
            for start in range(0, len(point_ids), UPSERT_BATCH):
                end = min(start + UPSERT_BATCH, len(point_ids))
                self.client.upsert(
                    name,
                    points=qm.Batch(
                        ids=[str(i) for i in point_ids[start:end]],
                        vectors=matrix[start:end].tolist(),
                        payloads=[dict(p) for p in payloads[start:end]] if payloads else None,
                    ),
                    wait=True,
                )
        return len(set(point_ids))

    def delete(self, name: str, ids: Sequence[uuid.UUID | str]) -> None:
        point_ids = as_ids(ids)
        if not point_ids:
            return
        self._require(name)
        with self._errors(name):
            self.client.delete(
                name, points_selector=qm.PointIdsList(points=[str(i) for i in point_ids]), wait=True
            )

    def count(self, name: str, filter: VectorFilter | None = None) -> int:
        self._require(name)
        with self._errors(name):
            return int(self.client.count(name, count_filter=qdrant_filter(filter), exact=True).count)

    def search(
        self,
        name: str,
        vector: np.ndarray | Sequence[float],
        limit: int = 10,
        filter: VectorFilter | None = None,
    ) -> list[VectorHit]:
        if not isinstance(limit, int) or limit < 1:
            raise InvalidInput(f"limit must be a positive integer, not {limit!r}")
        check_name(name)
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        with self._errors(name):
            # one call resolves the alias and searches; a swap in between cannot split the answer
            points = self.client.query_points(
                name,
                query=query.tolist(),
                limit=limit,
                query_filter=qdrant_filter(filter),
                with_payload=False,
                with_vectors=False,
            ).points
        hits = [VectorHit(uuid.UUID(str(p.id)), float(p.score)) for p in points]
        return sorted(hits, key=lambda h: (-h.score, h.id))

    def payloads(self, name: str, ids: Sequence[uuid.UUID | str]) -> dict[uuid.UUID, dict[str, Any]]:
        point_ids = as_ids(ids)
        if not point_ids:
            return {}
        self._require(name)
        with self._errors(name):
            records = self.client.retrieve(name, ids=[str(i) for i in point_ids], with_payload=True)
        return {uuid.UUID(str(r.id)): dict(r.payload or {}) for r in records}

    # aliases
    def aliases(self) -> dict[str, str]:
        with self._errors():
            return {a.alias_name: a.collection_name for a in self.client.get_aliases().aliases}

    def resolve_alias(self, alias: str) -> str | None:
        return self.aliases().get(alias)

    def swap_alias(
        self,
        alias: str,
        collection: str,
        *,
        expected: str | None = None,
        transaction: Transaction | None = None,
    ) -> str | None:
        check_name(alias)
        check_name(collection)
        with self._errors(collection):
            if not self._is_collection(collection):
                raise NotFound(f"vector collection {collection!r} not found")
            if self._is_collection(alias):
                raise Conflict(f"{alias!r} is a vector collection, not an alias")
            previous = self.resolve_alias(alias)
            if expected is not None and previous != expected:
                raise Conflict(f"alias {alias!r} points at {previous!r}, not {expected!r}")
            operations: list[qm.AliasOperations] = []
            if previous is not None:
                operations.append(qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=alias)))
            operations.append(
                qm.CreateAliasOperation(
                    create_alias=qm.CreateAlias(collection_name=collection, alias_name=alias)
                )
            )
            self.client.update_collection_aliases(change_aliases_operations=operations)
        return previous

    def delete_alias(self, alias: str) -> bool:
        check_name(alias)
        with self._errors(alias):
            if self.resolve_alias(alias) is None:
                return False
            self.client.update_collection_aliases(
                change_aliases_operations=[
                    qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=alias))
                ]
            )
        return True
