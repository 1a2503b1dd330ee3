"""MySQL connection config and query checks, importable without asyncmy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import DEFAULT_CONNECT_TIMEOUT_S, connect_timeout, require_keys
from connectors.errors import ConnectorConfigInvalid
from connectors.sql_statements import ensure_read_only
from connectors.targets import Endpoint

KIND = "mysql"
DEFAULT_PORT = 3306


@dataclass(frozen=True, slots=True)
class MySQLConfig:
    host: str
    user: str
    database: str
    password: str = ""
    port: int = DEFAULT_PORT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S

    def secrets(self) -> list[str]:
        return [self.password]

    def describe(self) -> str:
        return f"mysql://{self.host}:{self.port}/{self.database}"

    def endpoints(self) -> list[Endpoint]:
        """The one server this config connects to (a host with a `/` is a socket path)."""
        return [Endpoint(self.host.strip("[]"), self.port)]


def parse_config(raw: Mapping[str, Any]) -> MySQLConfig:
    """The validated config: `host`, `user`, `database` required; `password` may be empty; `port` 3306."""
    require_keys(KIND, raw, ("host", "user", "database"))
    try:
        port = int(raw.get("port") or DEFAULT_PORT)
    except (TypeError, ValueError):
        raise ConnectorConfigInvalid("mysql port must be an integer", kind=KIND) from None
    if not 0 < port < 65536:
        raise ConnectorConfigInvalid("mysql port must be between 1 and 65535", kind=KIND)
    password = raw.get("password") or ""
    for key in ("host", "user", "database"):
        if not isinstance(raw[key], str):
            raise ConnectorConfigInvalid(f"mysql {key} must be a string", kind=KIND)
    if not isinstance(password, str):
        raise ConnectorConfigInvalid("mysql password must be a string", kind=KIND)
    timeout = connect_timeout(KIND, raw)
    return MySQLConfig(
        host=raw["host"],
        user=raw["user"],
        database=raw["database"],
        password=password,
        port=port,
        connect_timeout=timeout,
    )


def validate_query(query: str) -> None:
    """Refuse anything but a single read statement."""
    ensure_read_only(query, kind=KIND)
