"""PostgreSQL connection config and query checks, importable without asyncpg."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from connectors.base import DEFAULT_CONNECT_TIMEOUT_S, require_keys
from connectors.errors import ConnectorConfigInvalid
from connectors.sql_statements import ensure_read_only

KIND = "postgresql"
SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True, slots=True)
class PostgreSQLConfig:
    dsn: str
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S

    def secrets(self) -> list[str]:
        """Strings that must never appear in a message: the DSN and any password in it."""
        parts = urlsplit(self.dsn)
        found = [self.dsn]
        if parts.password:
            found += [parts.password, unquote(parts.password)]
        found += parse_qs(parts.query).get("password", [])
        return found

    def describe(self) -> str:
        """`postgresql://host:port/database`, without user or password."""
        parts = urlsplit(self.dsn)
        host = parts.hostname or parse_qs(parts.query).get("host", ["localhost"])[0]
        port = f":{parts.port}" if parts.port else ""
        return f"postgresql://{host}{port}{parts.path or '/'}"


def parse_config(raw: Mapping[str, Any]) -> PostgreSQLConfig:
    """The validated config; `ConnectorConfigInvalid` if `dsn` is missing or not a postgresql:// URL."""
    require_keys(KIND, raw, ("dsn",))
    dsn = raw["dsn"]
    if not isinstance(dsn, str) or urlsplit(dsn).scheme not in SCHEMES:
        raise ConnectorConfigInvalid("postgresql dsn must be a postgresql://... URL", kind=KIND)
    timeout = raw.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT_S)
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise ConnectorConfigInvalid("postgresql connect_timeout must be a positive number", kind=KIND)
    return PostgreSQLConfig(dsn=dsn, connect_timeout=float(timeout))


def validate_query(query: str) -> None:
    """Refuse anything but a single read statement."""
    ensure_read_only(query, kind=KIND)
