"""The connector target policy of this Kariz: the operator's allow-list and Kariz's own database.

`connectors.targets` holds the check itself (stdlib only, so connectors stay free of `core`); this
module builds the policy from the settings: `KARIZ_CONNECTOR_ALLOWED_NETWORKS` opens networks,
hosts or socket folders, and Kariz's own database (its host and port, or its socket folder under
the data folder) is protected, reachable only through an entry that names it exactly.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from connectors.targets import Endpoint, TargetPolicy
from core.settings import Settings, get_settings

POSTGRES_PORT = 5432


def _database_endpoints(url: str) -> list[Endpoint]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    found: list[Endpoint] = []
    try:
        port = parts.port or POSTGRES_PORT
    except ValueError:
        port = POSTGRES_PORT
    if parts.hostname:
        found.append(Endpoint(parts.hostname, port))
    for host in query.get("host", []):
        found.append(Endpoint(host, port))
    return found


@lru_cache(maxsize=8)
def _policy(allowed: str, database_url: str | None, data_dir: Path) -> TargetPolicy:
    protected = [Endpoint(str(data_dir), POSTGRES_PORT)]
    if database_url:
        protected += _database_endpoints(database_url)
    return TargetPolicy.from_entries(allowed.split(","), protected=protected)


def connector_policy(settings: Settings | None = None) -> TargetPolicy:
    """The policy every connector of this process checks its targets against (cached per settings)."""
    s = settings or get_settings()
    return _policy(s.connector_allowed_networks, s.database_url, s.data_dir)
