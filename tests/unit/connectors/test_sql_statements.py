from __future__ import annotations

import pytest

from connectors.errors import SourceQueryInvalid, SourceWriteRefused
from connectors.sql_statements import bind_last_pull, ensure_read_only, split_statements


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id, name FROM products WHERE updated_at > :last_pull",
        "  with recent as (select * from t) select * from recent;",
        "VALUES (1, 'a'), (2, 'b')",
        "TABLE products",
        "SHOW CREATE TABLE products",
        "SELECT 'insert into x; delete from y' AS note -- update me\n",
        'SELECT "delete" FROM t /* drop table t; */',
        "SELECT $$ ; DROP TABLE t $$ AS body",
        "SELECT updated_at, created_by, into_count FROM t",
    ],
)
def test_single_reads_are_accepted(sql: str) -> None:
    ensure_read_only(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM products",
        "insert into t values (1)",
        "UPDATE t SET a = 1",
        "DROP TABLE t",
        "TRUNCATE t",
        "SELECT 1; DELETE FROM t",
        "SELECT 1; SELECT 2",
        "WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone",
        "SELECT * INTO backup FROM t",
        "SELECT * FROM t FOR UPDATE",
        "CALL refresh()",
        "SET ROLE admin",
    ],
)
def test_writes_and_multiple_statements_are_refused(sql: str) -> None:
    with pytest.raises(SourceWriteRefused):
        ensure_read_only(sql)


def test_empty_query_is_invalid() -> None:
    with pytest.raises(SourceQueryInvalid):
        ensure_read_only("  -- nothing here\n ; ")


def test_statements_split_outside_strings_and_comments() -> None:
    assert split_statements("select ';' ; select 2 -- ; tail") == ["select ';'", "select 2"]


def test_last_pull_becomes_a_placeholder_everywhere_in_code() -> None:
    sql, n = bind_last_pull("SELECT * FROM t WHERE a > :last_pull OR b > :last_pull", "$1")
    assert (sql, n) == ("SELECT * FROM t WHERE a > $1 OR b > $1", 2)


def test_casts_strings_comments_and_longer_names_are_left_alone() -> None:
    query = "SELECT x::text, ':last_pull' AS s, :last_pulled FROM t -- :last_pull\nWHERE u > :last_pull::date"
    sql, n = bind_last_pull(query, "$1")
    assert n == 1
    assert sql == "SELECT x::text, ':last_pull' AS s, :last_pulled FROM t -- :last_pull\nWHERE u > $1::date"


def test_query_without_last_pull_is_unchanged() -> None:
    assert bind_last_pull("SELECT 1", "%s") == ("SELECT 1", 0)
