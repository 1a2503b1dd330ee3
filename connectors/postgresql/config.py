"""PostgreSQL connection config and query checks, importable without asyncpg."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from connectors.base import DEFAULT_CONNECT_TIMEOUT_S, connect_timeout, require_keys
from connectors.errors import ConnectorConfigInvalid, SourceTargetForbidden, url_secrets
from connectors.sql_statements import ensure_read_only
from connectors.targets import Endpoint

KIND = "postgresql"
SCHEMES = ("postgresql", "postgres")
DEFAULT_PORT = 5432
# DSN options that make the driver read files or services on Kariz's own machine
LOCAL_FILE_OPTIONS = ("passfile", "service", "sslcert", "sslkey", "sslrootcert", "sslcrl", "sslpassword")
VERIFIED_TLS = ("verify-full",)


def _host_list(spec: str, ports: list[int]) -> list[Endpoint]:
    """The endpoints of a libpq host list (`h1:5432,[::1]:5433,h3`), percent-decoded like asyncpg."""
    found: list[Endpoint] = []
    for i, part in enumerate(p for p in spec.split(",") if p):
        port = ports[i] if i < len(ports) else (ports[-1] if ports else DEFAULT_PORT)
        if part.startswith("["):
            host, _, rest = part[1:].partition("]")
            if rest.startswith(":") and rest[1:]:
                port = _port(rest[1:])
        elif part.count(":") == 1:
            host, _, port_text = part.partition(":")
            if port_text:
                port = _port(port_text)
        else:
            host = part
        found.append(Endpoint(unquote(host), port))
    return found


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise ConnectorConfigInvalid(f"postgresql port {text!r} is not a number", kind=KIND) from None
    if not 0 < port < 65536:
        raise ConnectorConfigInvalid("postgresql port must be between 1 and 65535", kind=KIND)
    return port


@dataclass(frozen=True, slots=True)
class PostgreSQLConfig:
    dsn: str
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S

    def secrets(self) -> list[str]:
        """Strings that must never appear in a message: the DSN and any password in it."""
        return url_secrets(self.dsn) + parse_qs(urlsplit(self.dsn).query).get("password", [])

    def describe(self) -> str:
        """`postgresql://host:port/database`, without user or password."""
        parts = urlsplit(self.dsn)
        host = parts.hostname or parse_qs(parts.query).get("host", ["localhost"])[0]
        port = f":{parts.port}" if parts.port else ""
        return f"postgresql://{host}{port}{parts.path or '/'}"

    def endpoints(self) -> list[Endpoint]:
        """Every server the DSN would have the driver connect to, found the way asyncpg reads it:
        the netloc's host list, else the `host`/`port` query parameters; no host at all means the
        local socket. `SourceTargetForbidden` for options that read files on Kariz's machine."""
        parts = urlsplit(self.dsn)
        query = parse_qs(parts.query, keep_blank_values=True)
        local = [k for k in LOCAL_FILE_OPTIONS if k in query]
        if local:
            raise SourceTargetForbidden(
                f"postgresql DSN option(s) {', '.join(local)} read files on Kariz's own machine",
                kind=KIND,
            )
        hostspec = parts.netloc.rpartition("@")[2]
        ports = [_port(p) for v in query.get("port", []) for p in v.split(",") if p]
        if hostspec:
            found = _host_list(hostspec, [])
            if ports and not any(":" in p.rpartition("]")[2] for p in hostspec.split(",")):
                found = _host_list(hostspec, ports)
        else:
            found = _host_list(",".join(query.get("host", [])), ports)
        if not found:
            return [Endpoint("/", DEFAULT_PORT)]  # no host: libpq and asyncpg use the local socket
        return [Endpoint(e.host or "/", e.port) for e in found]

    @property
    def verifies_server_name(self) -> bool:
        """True when TLS checks the server's certificate against the host name (sslmode=verify-full):
        the connection then keeps the name instead of connecting to the checked address."""
        return parse_qs(urlsplit(self.dsn).query).get("sslmode", [""])[-1] in VERIFIED_TLS


def parse_config(raw: Mapping[str, Any]) -> PostgreSQLConfig:
    """The validated config; `ConnectorConfigInvalid` if `dsn` is missing or not a postgresql:// URL."""
    require_keys(KIND, raw, ("dsn",))
    dsn = raw["dsn"]
    if not isinstance(dsn, str) or urlsplit(dsn).scheme not in SCHEMES:
        raise ConnectorConfigInvalid("postgresql dsn must be a postgresql://... URL", kind=KIND)
    timeout = connect_timeout(KIND, raw)
    return PostgreSQLConfig(dsn=dsn, connect_timeout=timeout)


def validate_query(query: str) -> None:
    """Refuse anything but a single read statement."""
    ensure_read_only(query, kind=KIND)
