"""Which source kinds exist, and how to build one; a kind's driver is imported only when it is built.

Validation (`validate_connector`) imports only the kind's light `config` module, so the API can
check a registration without loading pymongo, asyncmy or the neo4j driver.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import SourceConnector
from connectors.errors import ConnectorConfigInvalid, SourceTargetForbidden
from connectors.targets import STRICT, TargetPolicy


@dataclass(frozen=True, slots=True)
class ConnectorKind:
    name: str
    config_module: str  # light: parse_config(raw), validate_query(query)
    source: str  # "module:Class"; importing the module imports the driver


KINDS: dict[str, ConnectorKind] = {
    k.name: k
    for k in (
        ConnectorKind(
            "postgresql", "connectors.postgresql.config", "connectors.postgresql.source:PostgreSQLSource"
        ),
        ConnectorKind("mysql", "connectors.mysql.config", "connectors.mysql.source:MySQLSource"),
        ConnectorKind("mongodb", "connectors.mongodb.config", "connectors.mongodb.source:MongoDBSource"),
        ConnectorKind("neo4j", "connectors.neo4j.config", "connectors.neo4j.source:Neo4jSource"),
    )
}
CONNECTOR_KINDS: tuple[str, ...] = tuple(KINDS)


def _kind(kind: str) -> ConnectorKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ConnectorConfigInvalid(
            f"unknown connector_type {kind!r}; expected one of {', '.join(CONNECTOR_KINDS)}"
        ) from None


def validate_connector(
    kind: str, config: Mapping[str, Any], query: str, *, policy: TargetPolicy | None = None
) -> None:
    """Raise `ConnectorConfigInvalid` / `SourceQueryInvalid` / `SourceWriteRefused` for a registration
    that can never pull, and `SourceTargetForbidden` for a target `policy` refuses (the strict
    policy when None); no connection is opened and no driver imported."""
    module = importlib.import_module(_kind(kind).config_module)
    parsed = module.parse_config(config)
    module.validate_query(query)
    try:
        (policy or STRICT).check(parsed.endpoints())
    except SourceTargetForbidden as exc:
        exc.kind = kind
        raise


def connector_class(kind: str) -> type[SourceConnector]:
    """The `SourceConnector` subclass for `kind` (imports its driver)."""
    module_name, _, class_name = _kind(kind).source.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def build_connector(
    kind: str, config: Mapping[str, Any], *, policy: TargetPolicy | None = None
) -> SourceConnector:
    """A connector of `kind` built from its decrypted `config` (validated; nothing is opened yet)
    that connects only where `policy` allows (the strict policy when None), checked at connect time."""
    return connector_class(kind)(config, policy=policy)
