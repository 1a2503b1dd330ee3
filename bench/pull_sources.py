"""Pull rate of the source connectors beside the raw driver reading the same query, same run.

For PostgreSQL (asyncpg) and MariaDB (asyncmy) a table of N rows (default 1,000,000; id, name, sku,
price, qty, description, updated_at) is created once in a scratch database, then read:
- raw: the driver alone, server-side cursor, fetching `batch_size` rows at a time, rows untouched;
- connector: `build_connector(kind, config).stream(query, last_pull=None, batch_size=...)`, i.e.
  read-only transaction, `:last_pull` bound, every row converted to a JSON-safe dict.
Each is run `--repeat` times and the best rate kept. The end-to-end figure (with ingestion) is
measured by the pull service's benchmark.

    .venv/bin/python bench/pull_sources.py [--rows 1000000] [--batch-size 5000]
        [--pg-dsn postgresql://postgres@127.0.0.1:5432/postgres] [--mysql-host 127.0.0.1 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncmy
import asyncpg
from asyncmy.cursors import SSCursor

from connectors.registry import build_connector
from connectors.targets import TargetPolicy

DB = "kariz_bench_src"
# the sources are the loopback servers these benchmarks fill, which the strict target policy refuses
LOOPBACK = TargetPolicy.from_entries(["127.0.0.0/8"])
QUERY = "SELECT id, name, sku, price, qty, description, updated_at FROM bench_products WHERE updated_at > :last_pull"
RAW_PG = QUERY.replace(":last_pull", "$1::timestamptz")
RAW_MY = QUERY.replace(":last_pull", "'1970-01-01'")


def _pg_db_dsn(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


async def prepare_pg(dsn: str, rows: int) -> str:
    admin = await asyncpg.connect(dsn)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DB):
            await admin.execute(f"CREATE DATABASE {DB}")
    finally:
        await admin.close()
    url = _pg_db_dsn(dsn, DB)
    conn = await asyncpg.connect(url)
    try:
        exists = await conn.fetchval("SELECT to_regclass('bench_products') IS NOT NULL")
        if not exists or await conn.fetchval("SELECT count(*) FROM bench_products") != rows:
            await conn.execute("DROP TABLE IF EXISTS bench_products")
            await conn.execute(
                "CREATE TABLE bench_products AS SELECT g AS id, 'product ' || g AS name, md5(g::text)::uuid AS sku, "
                "(g % 10000) * 0.01 + 1 AS price, g % 97 AS qty, "
                "'a sturdy part number ' || g || ' for general use in assemblies' AS description, "
                "timestamptz '2024-01-01' + g * interval '1 second' AS updated_at "
                f"FROM generate_series(1, {rows}) g"
            )
            await conn.execute("ALTER TABLE bench_products ALTER price TYPE numeric(12,2)")
            await conn.execute("VACUUM ANALYZE bench_products")
    finally:
        await conn.close()
    return url


async def raw_pg(url: str, batch_size: int) -> int:
    conn = await asyncpg.connect(url)
    n = 0
    try:
        async with conn.transaction(readonly=True):
            cur = await conn.cursor(RAW_PG, dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
            while records := await cur.fetch(batch_size):
                n += len(records)
    finally:
        await conn.close()
    return n


async def prepare_my(cfg: dict, rows: int) -> None:
    conn = await asyncmy.connect(
        host=cfg["host"], port=cfg["port"], user=cfg["user"], password=cfg["password"], autocommit=True
    )
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"CREATE DATABASE IF NOT EXISTS {DB}")
            await cur.execute(f"USE {DB}")
            await cur.execute(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = 'bench_products'",
                (DB,),
            )
            exists = (await cur.fetchone())[0]
            count = 0
            if exists:
                await cur.execute("SELECT COUNT(*) FROM bench_products")
                count = (await cur.fetchone())[0]
            if count != rows:
                await cur.execute("DROP TABLE IF EXISTS bench_products") if exists else None
                await cur.execute(
                    "CREATE TABLE bench_products (id INT PRIMARY KEY, name VARCHAR(40), sku CHAR(36), "
                    "price DECIMAL(12,2), qty INT, description VARCHAR(120), updated_at DATETIME)"
                )
                await cur.execute(
                    "INSERT INTO bench_products SELECT seq, CONCAT('product ', seq), UUID(), (seq % 10000) * 0.01 + 1, "
                    "seq % 97, CONCAT('a sturdy part number ', seq, ' for general use in assemblies'), "
                    f"TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_{rows}"
                )
    finally:
        conn.close()


async def raw_my(cfg: dict, batch_size: int) -> int:
    conn = await asyncmy.connect(
        host=cfg["host"], port=cfg["port"], user=cfg["user"], password=cfg["password"], database=DB
    )
    n = 0
    try:
        cur = conn.cursor(SSCursor)
        await cur.execute("START TRANSACTION READ ONLY")
        await cur.execute(RAW_MY)
        while rows := await cur.fetchmany(batch_size):
            n += len(rows)
        await cur.close()
    finally:
        conn.close()
    return n


def connector_rows(kind: str, config: dict, batch_size: int) -> int:
    source = build_connector(kind, config, policy=LOOPBACK)
    return sum(len(batch) for batch in source.stream(QUERY, last_pull=None, batch_size=batch_size))


def best_rate(run: Callable[[], int], repeat: int, expected: int) -> float:
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        n = run()
        elapsed = time.perf_counter() - start
        if n != expected:
            raise SystemExit(f"read {n} rows, expected {expected}")
        best = max(best, n / elapsed)
    return best


def source_arguments(doc: str | None, *, repeat: int) -> argparse.ArgumentParser:
    """The options the pull benchmarks share: sizes, repeats, the two source servers, what to skip."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--pg-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--mysql-host", default="127.0.0.1")
    parser.add_argument("--mysql-port", type=int, default=3306)
    parser.add_argument("--mysql-user", default="root")
    parser.add_argument("--mysql-password", default="")
    parser.add_argument("--skip", choices=["postgresql", "mysql"], action="append", default=[])
    return parser


def mysql_config(args: argparse.Namespace) -> dict[str, Any]:
    """The MariaDB server's connection config (no database) from the parsed options."""
    return {
        "host": args.mysql_host,
        "port": args.mysql_port,
        "user": args.mysql_user,
        "password": args.mysql_password,
    }


def main() -> None:
    parser = source_arguments(__doc__, repeat=2)
    args = parser.parse_args()

    results = []
    if "postgresql" not in args.skip:
        url = asyncio.run(prepare_pg(args.pg_dsn, args.rows))
        raw = best_rate(lambda: asyncio.run(raw_pg(url, args.batch_size)), args.repeat, args.rows)
        conn = best_rate(
            lambda: connector_rows("postgresql", {"dsn": url}, args.batch_size), args.repeat, args.rows
        )
        results.append(("postgresql (asyncpg)", raw, conn))
    if "mysql" not in args.skip:
        cfg = mysql_config(args)
        asyncio.run(prepare_my(cfg, args.rows))
        raw = best_rate(lambda: asyncio.run(raw_my(cfg, args.batch_size)), args.repeat, args.rows)
        conn = best_rate(
            lambda: connector_rows("mysql", {**cfg, "database": DB}, args.batch_size), args.repeat, args.rows
        )
        results.append(("mariadb (asyncmy)", raw, conn))

    print(f"rows={args.rows:,} batch_size={args.batch_size} repeat={args.repeat} (best of)")
    print(f"{'source':<22}{'raw driver rows/s':>20}{'connector stream() rows/s':>28}{'ratio':>8}")
    for name, raw, conn in results:
        print(f"{name:<22}{raw:>20,.0f}{conn:>28,.0f}{conn / raw:>8.0%}")


if __name__ == "__main__":
    main()
