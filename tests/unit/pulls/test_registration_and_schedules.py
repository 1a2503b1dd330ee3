"""Registration checks, cron schedules and commit units of the pull service (no I/O)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from core.errors import InvalidInput, ValidationFailed
from core.pulls.run import PullResult, _Units
from core.pulls.schedules import validate_cron
from core.pulls.spec import parse_connector_spec

ROOT = Path(__file__).resolve().parents[3]
BODY = {
    "name": "Production Postgres",
    "connector_type": "postgresql",
    "vertical": "manufacturing",
    "entity_type": "product",
    "connection_config": {"dsn": "postgresql://user:pass@db.internal:5432/products"},
    "query": "SELECT id, name, sku, price FROM products WHERE updated_at > :last_pull",
    "name_column": "name",
    "batch_size": 5000,
}


def test_the_contract_example_registers_with_defaults() -> None:
    spec = parse_connector_spec({k: v for k, v in BODY.items() if k != "batch_size"})
    assert spec.batch_size == 5000 and spec.schedule is None and spec.name_column == "name"
    assert spec.connection_config == BODY["connection_config"]


def test_validating_a_registration_imports_no_driver() -> None:
    # a fresh interpreter: this test session may have imported the drivers already
    probe = (
        "import sys; from core.pulls.spec import parse_connector_spec as p; "
        "p({'name':'n','connector_type':'mysql','vertical':'v','entity_type':'e','query':'SELECT 1',"
        "'connection_config':{'host':'h','user':'u','database':'d'}}); "
        "p({'name':'n','connector_type':'mongodb','vertical':'v','entity_type':'e','query':'{}',"
        "'connection_config':{'uri':'mongodb://h','database':'d','collection':'c'}}); "
        "print(sorted({'asyncmy','asyncpg','pymongo','neo4j'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("change", "error", "says"),
    [
        ({"extra": 1}, InvalidInput, "unknown field(s): extra"),
        ({"name": ""}, ValidationFailed, "name is required"),
        ({"batch_size": True}, ValidationFailed, "batch_size"),
        ({"batch_size": 100_001}, ValidationFailed, "batch_size"),
        ({"connection_config": {}}, ValidationFailed, "connection_config"),
        ({"connection_config": {"host": "x"}}, ValidationFailed, "missing dsn"),
        ({"query": "UPDATE products SET price = 0"}, ValidationFailed, "only read statements"),
        ({"schedule": "* * *"}, ValidationFailed, "5 fields"),
    ],
)
def test_bad_registrations_say_what_is_wrong(change: dict, error: type[Exception], says: str) -> None:
    with pytest.raises(error, match=None) as raised:
        parse_connector_spec({**BODY, **change})
    assert says in str(raised.value)
    assert "pass" not in str(raised.value)  # never the DSN's password


@pytest.mark.parametrize(
    "expression",
    [
        "* * * * *",
        "*/15 * * * *",
        "0 9 * * MON-FRI",
        "0 0 1 JAN,JUL *",
        "5,35 1-23/2 * * 0",
        "@daily",
        "0 0 * * 7",
    ],
)
def test_cron_expressions_accepted_here_are_accepted_by_dagster(expression: str) -> None:
    from dagster._utils.schedules import is_valid_cron_string

    assert validate_cron(expression) == " ".join(expression.split())
    assert is_valid_cron_string(validate_cron(expression))


@pytest.mark.parametrize(
    "expression",
    [
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "*/0 * * * *",
        "5-1 * * * *",
        "* * * * * *",
        "@often",
        "a b c d e",
    ],
)
def test_malformed_cron_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ValidationFailed):
        validate_cron(expression)


def test_schedule_ticks_fire_once_each_from_the_cursor() -> None:
    from orchestration.connectors import due_ticks

    created = dt.datetime(2026, 1, 1, 10, 7, tzinfo=dt.UTC)
    connector = type("C", (), {"id": uuid.uuid4(), "schedule": "0 * * * *", "created_at": created})()
    key = str(connector.id)
    due, cursor = due_ticks([connector], {}, created + dt.timedelta(minutes=10))
    assert due == {} and cursor[key] == created.isoformat()  # no tick since registration
    now = created + dt.timedelta(hours=2, minutes=1)  # 11:00 and 12:00 passed: one catch-up pull
    due, cursor = due_ticks([connector], cursor, now)
    assert due == {key: dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)}
    again, _ = due_ticks([connector], cursor, now + dt.timedelta(minutes=5))
    assert again == {}


def test_commit_units_group_batches_and_count_every_row() -> None:
    batches = iter(
        [[{"n": i} for i in range(start, start + 3)] for start in range(0, 21, 3)]
    )  # 7 batches of 3
    units = _Units(batches, limit=7)
    sizes = []
    while (rows := units.next_unit()) is not None:
        sizes.append(len(list(rows)))
    assert sizes == [9, 9, 3] and units.pulled == 21
    assert _Units(iter([]), limit=7).next_unit() is None


def test_pull_result_has_the_contract_fields() -> None:
    body = PullResult("completed", 2847, 2841, 6, 0, 12.4).to_dict()
    assert {
        k: body[k]
        for k in ("status", "records_pulled", "records_ingested", "duplicates_skipped", "duration_seconds")
    } == {
        "status": "completed",
        "records_pulled": 2847,
        "records_ingested": 2841,
        "duplicates_skipped": 6,
        "duration_seconds": 12.4,
    }
