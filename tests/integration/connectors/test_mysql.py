from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from connectors.errors import (
    SourceAuthFailed,
    SourceLost,
    SourceQueryInvalid,
    SourceUnreachable,
    SourceWriteRefused,
)
from tests.integration.connectors.peers import MySQLSource, build_peer, free_port, mysql_execute

pytestmark = [pytest.mark.integration, pytest.mark.mysql]


@pytest.fixture(scope="module")
def products(mysql_source: MySQLSource) -> MySQLSource:
    mysql_execute(
        mysql_source.database,
        "CREATE TABLE products (id INT PRIMARY KEY, name VARCHAR(50), price DECIMAL(10,2), "
        "opens TIME, photo BLOB, made DATE, attrs JSON, updated_at DATETIME(6))",
        "INSERT INTO products SELECT seq, CONCAT('product ', seq), seq * 1.25, '09:30:00', X'00FF', "
        "DATE '2024-01-01' + INTERVAL seq DAY, JSON_OBJECT('g', seq), "
        "TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq HOUR FROM seq_1_to_25",
        "CREATE TABLE audit (n INT)",
        "CREATE FUNCTION write_audit() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO audit VALUES (1); RETURN 1; END",
    )
    return mysql_source


def test_check_reports_the_server(products: MySQLSource) -> None:
    result = build_peer("mysql", products.config()).check()
    assert result.ok and "MariaDB" in (result.server_version or "")


def test_rows_stream_in_batches_with_json_safe_values(products: MySQLSource) -> None:
    source = build_peer("mysql", products.config())
    batches = list(source.stream("SELECT *, 'a%b' AS pct FROM products ORDER BY id", batch_size=10))
    assert [len(b) for b in batches] == [10, 10, 5]
    assert batches[0][0] == {
        "id": 1,
        "name": "product 1",
        "price": 1.25,
        "opens": 34200.0,
        "photo": "AP8=",
        "made": "2024-01-02",
        "attrs": '{"g": 1}',
        "updated_at": "2024-01-01T01:00:00",
        "pct": "a%b",
    }
    json.dumps(batches, allow_nan=False)


def test_last_pull_binds_the_watermark(products: MySQLSource) -> None:
    source = build_peer(
        "mysql", products.config(user=products.reader, password=products.reader_password)
    )
    query = "SELECT id FROM products WHERE updated_at > :last_pull AND name LIKE 'product%' ORDER BY id"
    assert sum(len(b) for b in source.stream(query, last_pull=None)) == 25
    since = dt.datetime(2024, 1, 1, 21, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # 20:00 UTC
    assert [r["id"] for b in source.stream(query, last_pull=since) for r in b] == [21, 22, 23, 24, 25]


def test_wrong_password_fails_without_leaking_it(products: MySQLSource) -> None:
    source = build_peer("mysql", products.config(user=products.reader, password="s3cret-wrong"))
    result = source.check()
    assert not result.ok and isinstance(result.error, SourceAuthFailed)
    with pytest.raises(SourceAuthFailed) as err:
        list(source.stream("SELECT 1"))
    assert "s3cret-wrong" not in str(err.value) and "s3cret-wrong" not in result.message


def test_unreachable_host(products: MySQLSource) -> None:
    source = build_peer("mysql", products.config(port=free_port(), connect_timeout=3))
    with pytest.raises(SourceUnreachable):
        list(source.stream("SELECT 1"))


def test_syntax_error_is_a_query_error(products: MySQLSource) -> None:
    with pytest.raises(SourceQueryInvalid, match="syntax"):
        list(build_peer("mysql", products.config()).stream("SELECT FROM WHERE"))


def test_writes_are_refused_before_running_and_by_the_read_only_transaction(products: MySQLSource) -> None:
    source = build_peer("mysql", products.config())  # root: the server would allow the write
    with pytest.raises(SourceWriteRefused):
        source.stream("DELETE FROM products")
    with pytest.raises(SourceWriteRefused):
        list(source.stream("SELECT write_audit()"))
    assert mysql_execute(products.database, "SELECT COUNT(*) FROM audit") == [(0,)]
    assert mysql_execute(products.database, "SELECT COUNT(*) FROM products") == [(25,)]


def test_source_going_away_mid_stream_raises_lost(products: MySQLSource) -> None:
    marker = f"doomed_{uuid.uuid4().hex[:8]}"
    total = 2_000_000
    source = build_peer("mysql", products.config())
    stream = source.stream(f"SELECT seq, '{marker}' AS m FROM seq_1_to_{total}", batch_size=1000)
    received = len(next(stream))
    ids = mysql_execute(
        None,
        f"SELECT id FROM information_schema.processlist WHERE info LIKE '%{marker}%' AND id <> CONNECTION_ID()",
    )
    assert ids
    mysql_execute(None, *(f"KILL CONNECTION {i}" for (i,) in ids))
    with pytest.raises(SourceLost):
        for batch in stream:
            received += len(batch)
    assert received < total
