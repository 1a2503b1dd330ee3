from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest

from connectors.errors import (
    SourceAuthFailed,
    SourceLost,
    SourceQueryInvalid,
    SourceUnreachable,
    SourceWriteRefused,
)
from tests.integration.connectors.peers import build_peer, free_port, pg_execute

pytestmark = pytest.mark.integration

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def products(pg_source_url: str) -> str:
    pg_execute(
        pg_source_url,
        "CREATE TABLE products (id int PRIMARY KEY, name text, sku uuid, price numeric(10,2), "
        "qty bigint, attrs jsonb, photo bytea, made date, updated_at timestamptz)",
        "INSERT INTO products SELECT g, 'product ' || g, md5(g::text)::uuid, g * 1.25, g, "
        "jsonb_build_object('g', g, 'even', g % 2 = 0), '\\x00ff'::bytea, date '2024-01-01' + g, "
        "timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour' FROM generate_series(1, 25) g",
        "CREATE SEQUENCE counter",
        "CREATE TABLE audit (n int)",
        "CREATE FUNCTION write_audit() RETURNS int LANGUAGE sql AS 'INSERT INTO audit VALUES (1) RETURNING n'",
    )
    return pg_source_url


def test_check_reports_the_server(products: str) -> None:
    result = build_peer("postgresql", {"dsn": products}).check()
    assert result.ok and result.server_version


def test_rows_stream_in_batches_with_json_safe_values(products: str) -> None:
    source = build_peer("postgresql", {"dsn": products})
    batches = list(source.stream("SELECT * FROM products ORDER BY id", batch_size=10))
    assert [len(b) for b in batches] == [10, 10, 5]
    first = batches[0][0]
    assert first == {
        "id": 1,
        "name": "product 1",
        "sku": str(uuid.UUID("c4ca4238a0b923820dcc509a6f75849b")),
        "price": 1.25,
        "qty": 1,
        "attrs": {"g": 1, "even": False},
        "photo": "AP8=",
        "made": "2024-01-02",
        "updated_at": "2024-01-01T01:00:00+00:00",
    }
    json.dumps(batches, allow_nan=False)


def test_last_pull_binds_the_watermark_and_leaves_casts_alone(products: str) -> None:
    source = build_peer("postgresql", {"dsn": products})
    query = "SELECT id, price::text AS price_text FROM products WHERE updated_at > :last_pull ORDER BY id"
    first = [r for b in source.stream(query, last_pull=None) for r in b]
    assert len(first) == 25  # first pull: the epoch
    assert first[0]["price_text"] == "1.25"
    later = [r["id"] for b in source.stream(query, last_pull=T0 + dt.timedelta(hours=20)) for r in b]
    assert later == [21, 22, 23, 24, 25]
    # a date cast on the parameter, and a naive watermark taken as UTC
    by_day = "SELECT count(*) AS n FROM products WHERE made > :last_pull::date"
    assert list(source.stream(by_day, last_pull=dt.datetime(2024, 1, 21)))[0][0]["n"] == 5


def _with_credentials(url: str, user: str, password: str, database: str | None = None) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    path = f"/{database}" if database else parts.path
    return urlunsplit((parts.scheme, f"{user}:{password}@{host}", path, parts.query, ""))


def test_wrong_credentials_fail_without_leaking_the_password(products: str) -> None:
    dsn = _with_credentials(products, f"nobody_{uuid.uuid4().hex[:6]}", "s3cret-pw")
    source = build_peer("postgresql", {"dsn": dsn})
    result = source.check()
    assert not result.ok and isinstance(result.error, SourceAuthFailed)
    with pytest.raises(SourceAuthFailed) as err:
        list(source.stream("SELECT 1"))
    for text in (str(err.value), repr(err.value), result.message):
        assert "s3cret-pw" not in text
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_missing_database_is_an_auth_failure(products: str) -> None:
    parts = urlsplit(products)  # the server's own login (it requires the password), another database
    dsn = _with_credentials(products, parts.username or "postgres", unquote(parts.password or ""), database="no_such_db")
    with pytest.raises(SourceAuthFailed, match="does not exist"):
        list(build_peer("postgresql", {"dsn": dsn}).stream("SELECT 1"))


def test_unreachable_host() -> None:
    source = build_peer(
        "postgresql", {"dsn": f"postgresql://u:s3cret-pw@127.0.0.1:{free_port()}/db", "connect_timeout": 3}
    )
    with pytest.raises(SourceUnreachable) as err:
        list(source.stream("SELECT 1"))
    assert err.value.retryable and "s3cret-pw" not in str(err.value)


def test_syntax_error_is_a_query_error(products: str) -> None:
    with pytest.raises(SourceQueryInvalid, match="syntax"):
        list(build_peer("postgresql", {"dsn": products}).stream("SELECT FROM WHERE"))


def test_writes_are_refused_before_running_and_by_the_read_only_transaction(products: str) -> None:
    source = build_peer("postgresql", {"dsn": products})
    with pytest.raises(SourceWriteRefused):
        source.stream("DELETE FROM products")
    with pytest.raises(SourceWriteRefused):
        list(source.stream("SELECT nextval('counter')"))
    with pytest.raises(SourceWriteRefused):
        list(source.stream("SELECT write_audit()"))
    assert pg_execute(products, "SELECT is_called FROM counter") == [(False,)]
    assert pg_execute(products, "SELECT count(*) FROM audit") == [(0,)]


def _backends(url: str, marker: str) -> list[tuple[int]]:
    return pg_execute(
        url,
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'kariz-connector' "
        f"AND query LIKE '%{marker}%' AND pid <> pg_backend_pid()",
    )


def test_source_going_away_mid_stream_raises_lost(products: str) -> None:
    marker = f"doomed_{uuid.uuid4().hex[:8]}"
    source = build_peer("postgresql", {"dsn": products})
    stream = source.stream(f"SELECT g AS n FROM generate_series(1, 200000) g /* {marker} */", batch_size=1000)
    received = len(next(stream))
    pg_execute(
        products,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE application_name = 'kariz-connector' AND query LIKE '%{marker}%' AND pid <> pg_backend_pid()",
    )
    with pytest.raises(SourceLost) as err:
        for batch in stream:
            received += len(batch)
    assert err.value.retryable
    assert received < 200000  # the caller saw an error, not a short result


def test_abandoned_stream_closes_its_connection(products: str) -> None:
    marker = f"abandoned_{uuid.uuid4().hex[:8]}"
    source = build_peer("postgresql", {"dsn": products})
    stream = source.stream(f"SELECT g FROM generate_series(1, 100000) g /* {marker} */", batch_size=100)
    next(stream)
    assert _backends(products, marker)
    stream.close()
    for _ in range(50):  # the server notices the closed socket shortly after
        if not _backends(products, marker):
            break
        time.sleep(0.1)
    assert not _backends(products, marker)
