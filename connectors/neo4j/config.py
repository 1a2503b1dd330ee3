"""Neo4j connection config and query checks, importable without the neo4j driver."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from connectors.base import DEFAULT_CONNECT_TIMEOUT_S, connect_timeout, require_keys
from connectors.errors import ConnectorConfigInvalid, SourceQueryInvalid
from connectors.targets import Endpoint

KIND = "neo4j"
SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
DEFAULT_PORT = 7687


@dataclass(frozen=True, slots=True)
class Neo4jConfig:
    uri: str
    user: str
    password: str
    database: str | None = None  # None: the server's default database
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S

    def secrets(self) -> list[str]:
        return [self.password]

    def describe(self) -> str:
        parts = urlsplit(self.uri)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/{self.database or '(default)'}"

    def endpoints(self) -> list[Endpoint]:
        """The server the URI names (routing tables it returns are checked as the driver meets them)."""
        parts = urlsplit(self.uri)
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise ConnectorConfigInvalid("neo4j uri has a bad port", kind=KIND) from None
        return [Endpoint(parts.hostname or "/", port)]

    @property
    def verifies_server_name(self) -> bool:
        """True for `+s` schemes: TLS checks the certificate against the host name."""
        return urlsplit(self.uri).scheme.endswith("+s")


def parse_config(raw: Mapping[str, Any]) -> Neo4jConfig:
    """The validated config: `uri` (bolt:// or neo4j://), `user`, `password` required; `database` optional."""
    require_keys(KIND, raw, ("uri", "user", "password"))
    uri = raw["uri"]
    if not isinstance(uri, str) or urlsplit(uri).scheme not in SCHEMES:
        raise ConnectorConfigInvalid("neo4j uri must be a bolt:// or neo4j:// URL", kind=KIND)
    timeout = connect_timeout(KIND, raw)
    return Neo4jConfig(
        uri=uri,
        user=str(raw["user"]),
        password=str(raw["password"]),
        database=str(raw["database"]) if raw.get("database") else None,
        connect_timeout=timeout,
    )


def validate_query(query: str) -> None:
    """Refuse an empty query; writes are refused by the server, since pulls run in read transactions."""
    if not isinstance(query, str) or not query.strip():
        raise SourceQueryInvalid("the cypher query is empty", kind=KIND)
