"""Readable partition keys of connectors: `<tenant name>/<connector name>`, ids in tags and metadata.

`connector_records` (and `connector_pull_job`) is partitioned by the dynamic set `connectors`; an
operator reads its keys in the Dagster UI, so a key names the connector as its tenant named it,
like a collection's `<tenant name>/<collection>` (core/collections/events.py).

Connector names are not unique within a tenant: the contract (spec 002) gives `POST /connectors`
no conflict answer, and one name for two connectors is natural (the same database feeding two
verticals). A unique constraint would turn such registrations into an error the contract does not
have, so keys are made unique instead: a tenant's connectors are taken oldest first (created_at,
then id), the first with a name gets `<tenant>/<name>`, a later one with the same name gets the
first 8 hex digits of its id appended, `<tenant>/<name> [c1d2e3f4]`. Keys stay put: no route renames
a connector or a tenant, and registering a connector never changes an older one's key. The one
change: deleting the older of two same-named connectors gives the younger the plain key (the
partition sensor swaps the partition; the earlier pulls' events stay under the old key).

Dagster refuses some characters in a partition key, and a `/` inside a connector name would make
`a/b` + `c` and `a` + `b/c` one key, so the name's part is made safe (`readable_name`): control
characters become a space, `/` becomes `∕` (U+2215), `...` becomes `…`. A key therefore splits at
its last `/`: what comes before is the tenant's name exactly. `resolve_partition` is the one way
from a key back to its connector, for the asset's runs (backfills from the UI included); the
sensors and the API ask `partition_keys` / `partition_of`, so every side computes one key.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import Connector, Tenant

PARTITIONS_NAME = "connectors"
SEPARATOR = "/"
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]+")


def readable_name(name: str) -> str:
    """The connector name as it can stand in a partition key after `<tenant>/`."""
    name = _UNSAFE.sub(" ", name).replace(SEPARATOR, "\u2215")
    while "..." in name:
        name = name.replace("...", "\u2026")
    return name.strip() or "connector"


def _keys(rows: Iterable[sa.Row]) -> dict[uuid.UUID, str]:
    """Keys of connectors given oldest first per tenant (id, tenant name, name)."""
    taken: set[str] = set()
    keys: dict[uuid.UUID, str] = {}
    for row in rows:
        base = f"{row.tenant_name}{SEPARATOR}{readable_name(row.name)}"
        key = base
        if key in taken:
            key = f"{base} [{row.id.hex[:8]}]"
        if key in taken:  # a connector literally named like another's suffixed key
            key = f"{base} [{row.id.hex}]"
        taken.add(key)
        keys[row.id] = key
    return keys


def _rows(where: sa.ColumnElement[bool] | None = None) -> sa.Select:
    query = (
        sa.select(Connector.id, Connector.name, Tenant.name.label("tenant_name"))
        .join(Tenant, Tenant.id == Connector.tenant_id)
        .order_by(Connector.tenant_id, Connector.created_at, Connector.id)
    )
    return query if where is None else query.where(where)


def partition_keys(session: Session) -> dict[uuid.UUID, str]:
    """The partition key of every stored connector (the `connectors` partitions that should exist)."""
    return _keys(session.execute(_rows()))


def partition_of(session: Session, connector: Connector) -> str:
    """The partition key of a stored connector."""
    return _keys(session.execute(_rows(Connector.tenant_id == connector.tenant_id)))[connector.id]


def resolve_partition(session: Session, key: str) -> Connector | None:
    """The connector a partition key names (None when no stored connector has that key)."""
    tenant_name, sep, _ = key.rpartition(SEPARATOR)
    if not sep:
        return None
    keys = _keys(session.execute(_rows(Tenant.name == tenant_name)))
    found = next((connector_id for connector_id, k in keys.items() if k == key), None)
    return None if found is None else session.get(Connector, found)
