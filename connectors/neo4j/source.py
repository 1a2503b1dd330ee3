"""Pull rows from Neo4j with the official driver: one read transaction, records fetched in batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import neo4j
from neo4j import exceptions as neo4j_errors
from neo4j import graph, spatial
from neo4j import time as neo4j_time

from connectors.base import DEFAULT_BATCH_SIZE, Batch, as_watermark, check_batch_size
from connectors.client_source import ClientSource
from connectors.errors import (
    ConnectorConfigInvalid,
    SourceAuthFailed,
    SourceError,
    SourceLost,
    SourceQueryInvalid,
    SourceTargetForbidden,
    SourceUnreachable,
    SourceWriteRefused,
)
from connectors.neo4j import config as config_rules
from connectors.neo4j.config import DEFAULT_PORT, validate_query
from connectors.targets import Endpoint
from connectors.values import ValueConverter

USER_AGENT = "kariz-connector"
WRITE_CODES = frozenset(
    {
        "Neo.ClientError.Statement.AccessMode",
        "Neo.ClientError.Cluster.NotALeader",
        "Neo.ClientError.Security.Forbidden",
    }
)


def _node(value: graph.Node, conv: ValueConverter) -> dict[str, Any]:
    return {
        "element_id": value.element_id,
        "labels": sorted(value.labels),
        "properties": conv.convert(dict(value)),
    }


def _relationship(value: graph.Relationship, conv: ValueConverter) -> dict[str, Any]:
    return {
        "element_id": value.element_id,
        "type": value.type,
        "start": value.start_node.element_id if value.start_node is not None else None,
        "end": value.end_node.element_id if value.end_node is not None else None,
        "properties": conv.convert(dict(value)),
    }


def _path(value: graph.Path, conv: ValueConverter) -> dict[str, Any]:
    return {
        "nodes": [_node(n, conv) for n in value.nodes],
        "relationships": [_relationship(r, conv) for r in value.relationships],
    }


def _iso(value: Any, _: ValueConverter) -> str:
    return value.iso_format()


def _point(value: spatial.Point, _: ValueConverter) -> dict[str, Any]:
    return {"srid": value.srid, "coordinates": list(value)}


NEO4J_CONVERTERS = {
    graph.Node: _node,
    graph.Relationship: _relationship,
    graph.Path: _path,
    neo4j_time.DateTime: _iso,
    neo4j_time.Date: _iso,
    neo4j_time.Time: _iso,
    neo4j_time.Duration: _iso,
    spatial.Point: _point,
}


class Neo4jSource(ClientSource):
    """A Neo4j database reached over Bolt; pulls run in read sessions."""

    kind = "neo4j"
    rules = config_rules
    converters = NEO4J_CONVERTERS
    driver_errors = (neo4j_errors.Neo4jError, neo4j_errors.DriverError, OSError, SourceTargetForbidden)

    def _resolve(self, address: Any) -> list[tuple[str, int]]:
        """The driver's resolver, called for every address it connects to (the seed and every
        router or server a routing table names): only checked addresses come out."""
        endpoint = Endpoint(str(address.host), int(address.port or DEFAULT_PORT))
        try:
            addresses = self.policy.pin(endpoint)
        except SourceTargetForbidden as exc:
            exc.kind = self.kind
            self._refused = exc
            raise
        if self.config.verifies_server_name:
            return [(endpoint.host, endpoint.port)]
        return [(a, endpoint.port) for a in addresses]

    def _open(self) -> neo4j.Driver:
        self._refused: SourceTargetForbidden | None = None
        self.pinned_endpoints()  # refuse a forbidden seed before the driver exists
        try:
            return neo4j.GraphDatabase.driver(
                self.config.uri,
                resolver=self._resolve,
                auth=(self.config.user, self.config.password),
                user_agent=USER_AGENT,
                connection_timeout=self.config.connect_timeout,
                max_connection_pool_size=1,
                max_transaction_retry_time=0,
            )
        except (neo4j_errors.ConfigurationError, ValueError) as exc:
            raise self.error(ConnectorConfigInvalid, f"bad connection settings: {exc}") from None

    def _error(self, exc: BaseException, *, started: bool) -> SourceError:
        if getattr(self, "_refused", None) is not None:
            return self._refused
        if isinstance(exc, SourceTargetForbidden):
            return exc
        if isinstance(exc, neo4j_errors.AuthError):
            return self.error(SourceAuthFailed, "login refused")
        if isinstance(exc, neo4j_errors.Neo4jError):
            code = exc.code or ""
            detail = f"{exc.message} ({code})"
            if code in WRITE_CODES:
                return self.error(SourceWriteRefused, f"the query tried to write: {detail}")
            if code.startswith("Neo.ClientError.Security."):
                return self.error(SourceAuthFailed, f"not allowed: {detail}")
            if code.startswith(("Neo.ClientError.Statement.", "Neo.ClientError.Procedure.")):
                return self.error(SourceQueryInvalid, f"the query cannot run: {detail}")
            if code.startswith("Neo.ClientError.Database.DatabaseNotFound"):
                return self.error(SourceAuthFailed, f"the database does not exist: {detail}")
            return self.error(SourceError, f"the query failed: {detail}")
        if isinstance(exc, neo4j_errors.ConfigurationError):
            return self.error(ConnectorConfigInvalid, f"the server cannot honour the config: {exc}")
        if isinstance(exc, neo4j_errors.DriverError | OSError):
            if started:
                return self.error(SourceLost, f"the connection broke: {type(exc).__name__}")
            return self.error(SourceUnreachable, f"cannot connect: {type(exc).__name__}")
        return self.error(SourceError, f"the query failed: {type(exc).__name__}")

    def _server_version(self, driver: neo4j.Driver) -> str:
        return driver.get_server_info().agent

    def stream(
        self, query: str, *, last_pull: dt.datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[Batch]:
        validate_query(query)
        watermark = as_watermark(last_pull)
        batch_size = check_batch_size(batch_size)

        @contextmanager
        def records(driver: neo4j.Driver, answered: Callable[[], None]) -> Iterator[neo4j.Result]:
            with (
                driver.session(
                    database=self.config.database,
                    default_access_mode=neo4j.READ_ACCESS,
                    fetch_size=batch_size,
                ) as session,
                session.begin_transaction() as tx,
            ):
                result = tx.run(query, {"last_pull": watermark})
                answered()
                yield result

        return self._pull(records, batch_size)
