"""MongoDB connection config and query parsing, importable without pymongo."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from connectors.base import DEFAULT_CONNECT_TIMEOUT_S, connect_timeout, require_keys
from connectors.errors import ConnectorConfigInvalid, SourceQueryInvalid, SourceTargetForbidden, url_secrets
from connectors.targets import Endpoint

KIND = "mongodb"
LAST_PULL = ":last_pull"
QUERY_KEYS = frozenset({"filter", "projection", "sort"})
DEFAULT_PORT = 27017


@dataclass(frozen=True, slots=True)
class MongoDBConfig:
    uri: str
    database: str
    collection: str
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S

    def secrets(self) -> list[str]:
        return url_secrets(self.uri)

    def describe(self) -> str:
        hosts = urlsplit(self.uri).netloc.rpartition("@")[2]
        return f"mongodb://{hosts}/{self.database}.{self.collection}"

    def options(self) -> dict[str, str]:
        """The URI's options, names lower-cased (MongoDB option names are case-insensitive)."""
        query = parse_qs(urlsplit(self.uri).query)
        return {k.lower(): v[-1] for k, v in query.items()}

    def endpoints(self) -> list[Endpoint]:
        """Every seed host of the URI (a `.sock` path is a Unix socket). `mongodb+srv://` is refused:
        its hosts come from a DNS SRV answer that the check could not pin."""
        parts = urlsplit(self.uri)
        if parts.scheme == "mongodb+srv":
            raise SourceTargetForbidden(
                "mongodb+srv:// URIs take their hosts from DNS at connect time; list the hosts in a "
                "mongodb:// URI instead",
                kind=KIND,
            )
        found: list[Endpoint] = []
        for part in parts.netloc.rpartition("@")[2].split(","):
            host, port = unquote(part), DEFAULT_PORT
            if host.startswith("["):
                inner, _, rest = host[1:].partition("]")
                host = inner
                if rest.startswith(":") and rest[1:].isdigit():
                    port = int(rest[1:])
            elif host.count(":") == 1 and not host.endswith(".sock"):
                host, _, port_text = host.partition(":")
                if not port_text.isdigit():
                    raise ConnectorConfigInvalid(f"mongodb port {port_text!r} is not a number", kind=KIND)
                port = int(port_text)
            if host.endswith(".sock") and not host.startswith("/"):
                host = "/" + host
            found.append(Endpoint(host or "/", port))
        return found

    @property
    def verifies_server_name(self) -> bool:
        """True when TLS is on and checks the certificate against the host name."""
        opts = self.options()
        tls = opts.get("tls", opts.get("ssl", "false")).lower() == "true"
        lax = any(opts.get(k, "false").lower() == "true" for k in ("tlsinsecure", "tlsallowinvalidhostnames"))
        return tls and not lax

    def uri_for(self, pairs: list[tuple[str, int]]) -> str:
        """The URI with its hosts replaced by `pairs` (the checked addresses)."""
        parts = urlsplit(self.uri)
        auth, at, _ = parts.netloc.rpartition("@")
        hosts = ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in pairs)
        return urlunsplit((parts.scheme, f"{auth}{at}{hosts}", parts.path, parts.query, parts.fragment))


@dataclass(frozen=True, slots=True)
class MongoQuery:
    """A parsed query: `filter` (with `:last_pull` still a string), optional `projection` and `sort`."""

    filter: dict[str, Any]
    projection: dict[str, Any] | list[str] | None = None
    sort: list[tuple[str, int]] | None = None


def parse_config(raw: Mapping[str, Any]) -> MongoDBConfig:
    """The validated config: `uri` (mongodb:// or mongodb+srv://), `database`, `collection` required."""
    require_keys(KIND, raw, ("uri", "database", "collection"))
    uri = raw["uri"]
    if not isinstance(uri, str) or urlsplit(uri).scheme not in ("mongodb", "mongodb+srv"):
        raise ConnectorConfigInvalid("mongodb uri must be a mongodb:// or mongodb+srv:// URL", kind=KIND)
    timeout = connect_timeout(KIND, raw)
    return MongoDBConfig(
        uri=uri,
        database=str(raw["database"]),
        collection=str(raw["collection"]),
        connect_timeout=timeout,
    )


def parse_query(query: str | Mapping[str, Any] | None) -> MongoQuery:
    """A JSON filter, or `{"filter": ..., "projection": ..., "sort": {...}}`; empty means every document.

    Extended JSON (`{"$date": ...}`, `{"$oid": ...}`) is kept as written here; the source decodes it.
    """
    if query is None or (isinstance(query, str) and not query.strip()):
        return MongoQuery(filter={})
    if isinstance(query, str):
        try:
            doc = json.loads(query)
        except json.JSONDecodeError as exc:
            raise SourceQueryInvalid(
                f"the mongodb query is not valid JSON: {exc.msg} at {exc.pos}", kind=KIND
            ) from None
    else:
        doc = dict(query)
    if not isinstance(doc, dict):
        raise SourceQueryInvalid("the mongodb query must be a JSON object (a filter)", kind=KIND)
    if "filter" in doc and set(doc) <= QUERY_KEYS:
        filt, projection, sort = doc["filter"], doc.get("projection"), doc.get("sort")
    else:
        filt, projection, sort = doc, None, None
    if not isinstance(filt, dict):
        raise SourceQueryInvalid("the mongodb filter must be a JSON object", kind=KIND)
    if projection is not None and not isinstance(projection, dict | list):
        raise SourceQueryInvalid("the mongodb projection must be an object or a list of fields", kind=KIND)
    sort_pairs = None
    if sort is not None:
        if not isinstance(sort, dict) or any(v not in (1, -1) for v in sort.values()):
            raise SourceQueryInvalid('the mongodb sort must be an object like {"field": 1}', kind=KIND)
        sort_pairs = [(str(k), int(v)) for k, v in sort.items()]
    return MongoQuery(filter=filt, projection=projection, sort=sort_pairs)


def validate_query(query: str) -> None:
    """Refuse a query that is not a JSON filter (a find can only read)."""
    parse_query(query)
