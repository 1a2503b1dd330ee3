from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from connectors.base import EPOCH, as_watermark
from connectors.errors import ConnectorConfigInvalid, SourceQueryInvalid, SourceWriteRefused
from connectors.mongodb.config import parse_query
from connectors.registry import CONNECTOR_KINDS, build_connector, validate_connector

VALID = {
    "postgresql": ({"dsn": "postgresql://u:s3cret-pw@db.internal:5432/products"}, "SELECT 1"),
    "mysql": (
        {"host": "db", "port": 3306, "user": "u", "password": "s3cret-pw", "database": "d"},
        "SELECT 1",
    ),
    "mongodb": ({"uri": "mongodb://u:s3cret-pw@db:27017", "database": "d", "collection": "c"}, "{}"),
    "neo4j": (
        {"uri": "bolt://db:7687", "user": "u", "password": "s3cret-pw", "database": "neo4j"},
        "RETURN 1",
    ),
}


def test_every_contract_kind_is_registered() -> None:
    assert set(CONNECTOR_KINDS) == {"postgresql", "mysql", "mongodb", "neo4j"}


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_registrations_pass(kind: str) -> None:
    config, query = VALID[kind]
    validate_connector(kind, config, query)


@pytest.mark.parametrize(
    ("kind", "config", "missing"),
    [
        ("postgresql", {}, ["dsn"]),
        ("mysql", {"host": "db", "password": "x"}, ["user", "database"]),
        ("mongodb", {"uri": "mongodb://db"}, ["database", "collection"]),
        ("neo4j", {"uri": "bolt://db", "user": ""}, ["user", "password"]),
    ],
)
def test_missing_keys_are_named(kind: str, config: dict, missing: list[str]) -> None:
    with pytest.raises(ConnectorConfigInvalid) as err:
        validate_connector(kind, config, VALID[kind][1])
    assert err.value.extra["missing"] == missing
    for key in missing:
        assert key in err.value.message


def test_bad_values_and_unknown_kinds_are_refused() -> None:
    with pytest.raises(ConnectorConfigInvalid, match="postgresql://"):
        validate_connector("postgresql", {"dsn": "mysql://db/x"}, "SELECT 1")
    with pytest.raises(ConnectorConfigInvalid, match="port"):
        validate_connector("mysql", {"host": "db", "user": "u", "database": "d", "port": "abc"}, "SELECT 1")
    with pytest.raises(ConnectorConfigInvalid, match="unknown connector_type"):
        validate_connector("oracle", {}, "SELECT 1")


def test_queries_are_checked_at_registration() -> None:
    with pytest.raises(SourceWriteRefused):
        validate_connector("mysql", VALID["mysql"][0], "DELETE FROM t")
    with pytest.raises(SourceQueryInvalid):
        validate_connector("mongodb", VALID["mongodb"][0], "{not json")
    with pytest.raises(SourceQueryInvalid):
        validate_connector("neo4j", VALID["neo4j"][0], "   ")


def test_source_descriptions_never_hold_credentials() -> None:
    for kind, (config, _query) in VALID.items():
        connector = build_connector(kind, config)
        assert "s3cret-pw" not in connector.source
        assert "s3cret-pw" not in repr(connector)


def test_validation_does_not_import_drivers() -> None:
    code = (
        "import sys\n"
        "from connectors.registry import validate_connector\n"
        "validate_connector('neo4j', {'uri': 'bolt://h', 'user': 'u', 'password': 'p'}, 'RETURN 1')\n"
        "validate_connector('mongodb', {'uri': 'mongodb://h', 'database': 'd', 'collection': 'c'}, '{}')\n"
        "validate_connector('mysql', {'host': 'h', 'user': 'u', 'database': 'd'}, 'SELECT 1')\n"
        "validate_connector('postgresql', {'dsn': 'postgresql://h/d'}, 'SELECT 1')\n"
        "print(sorted(m for m in ('neo4j', 'pymongo', 'asyncmy', 'asyncpg') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_mongo_query_forms() -> None:
    assert parse_query("").filter == {}
    plain = parse_query('{"updated_at": {"$gt": ":last_pull"}}')
    assert plain.filter == {"updated_at": {"$gt": ":last_pull"}} and plain.projection is None
    full = parse_query('{"filter": {"a": 1}, "projection": {"_id": 0, "a": 1}, "sort": {"a": -1}}')
    assert (full.filter, full.projection, full.sort) == ({"a": 1}, {"_id": 0, "a": 1}, [("a", -1)])
    # a document with a field literally called "filter" plus others stays a plain filter
    assert parse_query('{"filter": "x", "b": 2}').filter == {"filter": "x", "b": 2}
    with pytest.raises(SourceQueryInvalid):
        parse_query("[1, 2]")


def test_watermark_defaults_to_epoch_and_is_utc() -> None:
    assert as_watermark(None) == EPOCH
    naive = dt.datetime(2024, 1, 1, 12)
    assert as_watermark(naive) == dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
    paris = dt.datetime(2024, 1, 1, 13, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert as_watermark(paris) == dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
