"""End-to-end pull rate: a connector's rows streamed and ingested into Kariz records, beside the raw read.

For PostgreSQL (asyncpg) and MariaDB (asyncmy) the 1M-row `bench_products` table of
`bench/pull_sources.py` (same seeding, database `kariz_bench_src`) is read by the same query:
  * raw      - the driver alone, server-side cursor, `batch_size`-row fetches, rows untouched;
  * stream   - `build_connector(...).stream(...)`: read-only transaction, JSON-safe dicts;
  * pull e2e - `core.pulls.run_pull`: decrypt the stored config, stream, ingest into a fresh collection
               (content hash, identifiers, COPY to staging, INSERT ... ON CONFLICT computing
               search_text), commit per 50,000-row unit, advance the watermark;
  * one call - the same stream handed to a single `ingest_records` call (one transaction, no units):
               the ingestion ceiling for these rows, and what committing in units costs.
Kariz's own database is an embedded PostgreSQL 18 in a temporary folder unless --database-url.

    .venv/bin/python bench/pull_e2e.py [--rows 1000000] [--batch-size 5000] [--repeat 1]
        [--skip postgresql|mysql] [--database-url URL] [--readme]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pull_sources  # noqa: E402  (the phase-1 bench: seeding and the raw driver reads)

from core.db.embedded import ensure_database, start_embedded_server, stop_embedded_server  # noqa: E402
from core.db.engine import make_sync_engine  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.db.models import Connector  # noqa: E402
from core.pulls.run import run_pull  # noqa: E402
from core.security.encryption import CredentialBox, generate_key  # noqa: E402
from core.tenants.service import create_tenant  # noqa: E402


def kariz_engine(database_url: str | None, workdir: Path) -> sa.Engine:
    server = database_url or start_embedded_server(workdir / "pg")
    url = ensure_database(server, f"kariz_bench_pull_{uuid.uuid4().hex[:6]}")
    upgrade(url)
    return make_sync_engine(url)


def e2e_rate(
    engine: sa.Engine, box: CredentialBox, kind: str, config: dict, batch_size: int, rows: int
) -> tuple[float, float]:
    """(rows/s of run_pull into a fresh collection, seconds)."""
    with Session(engine) as session:
        tenant = create_tenant(session, f"bench-{uuid.uuid4().hex[:8]}")
        connector = Connector(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            name=f"bench {kind}",
            connector_type=kind,
            collection_name=f"bench_{kind}_{uuid.uuid4().hex[:6]}",
            entity_type="product",
            config_encrypted=box.encrypt(config),
            query=pull_sources.QUERY,
            name_column="name",
            batch_size=batch_size,
        )
        session.add(connector)
        session.commit()
        connector_id = connector.id
    started = time.perf_counter()
    result = run_pull(engine, connector_id, box=box)
    seconds = time.perf_counter() - started
    if result.records_pulled != rows or result.records_ingested != rows:
        raise SystemExit(
            f"{kind}: pulled {result.records_pulled}, ingested {result.records_ingested}, expected {rows}"
        )
    return rows / seconds, seconds


def one_call_rate(engine: sa.Engine, kind: str, config: dict, batch_size: int, rows: int) -> float:
    """rows/s of the connector's stream fed to one `ingest_records` call (one transaction)."""
    from connectors.registry import build_connector
    from core.ingestion import ingest_records

    with Session(engine) as session:
        tenant = create_tenant(session, f"bench-{uuid.uuid4().hex[:8]}")
        session.commit()
        started = time.perf_counter()
        batches = build_connector(kind, config, policy=pull_sources.LOOPBACK).stream(pull_sources.QUERY, batch_size=batch_size)
        result = ingest_records(
            session,
            tenant_id=tenant.id,
            collection_name=f"one_{uuid.uuid4().hex[:6]}",
            records=(row for batch in batches for row in batch),
            entity_type="product",
            source_type="connector",
            name_column="name",
        )
        session.commit()
        seconds = time.perf_counter() - started
    if result.accepted != rows:
        raise SystemExit(f"{kind}: one call ingested {result.accepted}, expected {rows}")
    return rows / seconds


def main() -> None:
    parser = pull_sources.source_arguments(__doc__, repeat=1)
    parser.add_argument("--database-url", default=None, help="Kariz's database server (default: embedded)")
    parser.add_argument("--readme", action="store_true", help="print Markdown table rows for bench/README.md")
    args = parser.parse_args()

    box = CredentialBox([generate_key()])
    sources: list[tuple[str, str, dict, object]] = []
    if "postgresql" not in args.skip:
        url = asyncio.run(pull_sources.prepare_pg(args.pg_dsn, args.rows))
        sources.append(
            (
                "PostgreSQL (asyncpg)",
                "postgresql",
                {"dsn": url},
                lambda: asyncio.run(pull_sources.raw_pg(url, args.batch_size)),
            )
        )
    if "mysql" not in args.skip:
        cfg = pull_sources.mysql_config(args)
        asyncio.run(pull_sources.prepare_my(cfg, args.rows))
        sources.append(
            (
                "MariaDB (asyncmy)",
                "mysql",
                {**cfg, "database": pull_sources.DB},
                lambda cfg=cfg: asyncio.run(pull_sources.raw_my(cfg, args.batch_size)),
            )
        )

    results = []
    with tempfile.TemporaryDirectory(prefix="kariz-bench-pull-") as tmp:
        engine = kariz_engine(args.database_url, Path(tmp))
        try:
            for label, kind, config, raw_read in sources:
                raw = pull_sources.best_rate(raw_read, args.repeat, args.rows)
                stream = pull_sources.best_rate(
                    lambda kind=kind, config=config: pull_sources.connector_rows(
                        kind, config, args.batch_size
                    ),
                    args.repeat,
                    args.rows,
                )
                e2e, seconds = max(
                    e2e_rate(engine, box, kind, config, args.batch_size, args.rows)
                    for _ in range(args.repeat)
                )
                one = max(
                    one_call_rate(engine, kind, config, args.batch_size, args.rows)
                    for _ in range(args.repeat)
                )
                results.append((label, raw, stream, e2e, seconds, one))
                print(
                    f"{label}: raw {raw:,.0f} rows/s, stream {stream:,.0f} rows/s, pull e2e {e2e:,.0f} rows/s "
                    f"({seconds:.1f} s), one ingest call {one:,.0f} rows/s",
                    flush=True,
                )
        finally:
            engine.dispose()
            if args.database_url is None:  # before its folder goes: it may still be writing WAL
                stop_embedded_server(Path(tmp) / "pg")

    print(
        f"\nrows={args.rows:,} batch_size={args.batch_size} repeat={args.repeat} (best of), "
        f"{dt.date.today().isoformat()}"
    )
    print(f"{'source':<22}{'raw':>10}{'stream':>10}{'pull e2e':>10}{'e2e/raw':>9}{'one call':>10}  (rows/s)")
    for label, raw, stream, e2e, _, one in results:
        print(f"{label:<22}{raw:>10,.0f}{stream:>10,.0f}{e2e:>10,.0f}{e2e / raw:>9.0%}{one:>10,.0f}")
    if args.readme:
        print(
            "\n| source | rows | raw driver rows/s | connector `stream()` rows/s | **pull e2e** rows/s "
            "| e2e / raw | one `ingest_records` call rows/s |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for label, raw, stream, e2e, _, one in results:
            print(
                f"| {label} | {args.rows:,} | {raw:,.0f} | {stream:,.0f} | **{e2e:,.0f}** | {e2e / raw:.0%} "
                f"| {one:,.0f} |"
            )


if __name__ == "__main__":
    main()
