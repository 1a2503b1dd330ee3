"""Connector partition keys are what an operator reads, unique, and safe for Dagster."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from dagster._core.definitions.partitions.utils.base import INVALID_PARTITION_SUBSTRINGS

from core.pulls.partitions import SEPARATOR, _keys, readable_name


def _row(tenant: str, name: str) -> SimpleNamespace:
    return SimpleNamespace(id=uuid.uuid4(), tenant_name=tenant, name=name)


def test_a_key_is_tenant_and_connector_name_and_splits_at_its_last_slash() -> None:
    rows = [_row("acme/eu", "Production Postgres"), _row("acme", "eu/Production Postgres")]
    keys = _keys(rows)
    assert keys[rows[0].id] == "acme/eu/Production Postgres"
    assert keys[rows[1].id] == "acme/eu\u2215Production Postgres"  # no collision with the first
    assert [k.rpartition(SEPARATOR)[0] for k in keys.values()] == ["acme/eu", "acme"]


def test_a_tenants_later_connector_of_the_same_name_gets_its_ids_start() -> None:
    older, younger, other_tenant = _row("acme", "pg"), _row("acme", "pg"), _row("globex", "pg")
    lookalike = SimpleNamespace(id=uuid.uuid4(), tenant_name="acme", name=f"pg [{younger.id.hex[:8]}]")
    keys = _keys([older, lookalike, younger, other_tenant])
    assert keys[older.id] == "acme/pg"
    assert keys[other_tenant.id] == "globex/pg"
    assert keys[lookalike.id] == f"acme/pg [{younger.id.hex[:8]}]"
    assert keys[younger.id] == f"acme/pg [{younger.id.hex}]"  # the short form was taken
    assert len(set(keys.values())) == 4


def test_names_dagster_refuses_in_a_key_are_made_safe() -> None:
    for name in ("a...b", "line\nbreak", "tab\there", "nul\0", "....", "\a\b\f\r\v"):
        safe = readable_name(name)
        assert not [bad for bad in INVALID_PARTITION_SUBSTRINGS if bad in safe], name
        assert SEPARATOR not in safe and safe
    assert readable_name("a...b") == "a\u2026b"
    assert readable_name("  spaced  ") == "spaced"
