"""Keyed ingestion benchmark: the keyed path beside today's unkeyed path and PostgreSQL's COPY, same run.

For one synthetic fastener catalog (bench/ingest_csv.py's generator, `part_number` unique) it measures
  * unkeyed - `ingest_file` as today (content-hash dedup), into a fresh database;
  * keyed   - the same file with `key_column="part_number"` (UPDATE ... FROM + INSERT ... WHERE NOT
              EXISTS ... ON CONFLICT, the `ux_records_key` index maintained), into a fresh database;
  * COPY    - the keyed rows exported and COPYed into an empty `LIKE records INCLUDING ALL` table;
then, in the keyed collection of `--rows` records:
  * update  - 10,000 existing part numbers with a new price (each record replaced in place);
  * insert  - 10,000 new part numbers into the same collection (keyed), `NEW-` prefixed (adjacent
              to each other in every index: the cheapest case), then 10,000 scattered ones (each
              beside an existing part number: the index pages an update touches);
  * insert, unkeyed - 10,000 new rows into the unkeyed collection of the same size.

    .venv/bin/python bench/ingest_keyed.py [--rows 1000000] [--changes 10000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest_csv import bench_server, ensure_dropped, fresh, synthetic_csv, timed_copy  # noqa: E402
from core.db.urls import libpq_url  # noqa: E402
from core.ingestion import ingest_file  # noqa: E402


def changed_csv(source: Path, target: Path, count: int, *, new: bool, scattered: bool = False) -> None:
    """`count` rows of `source` spread over the file: with a new price, or (new) with new part numbers:
    `NEW-` prefixed (adjacent to each other in every index) or, `scattered`, `-B` suffixed (each beside
    an existing part number: the index pages an update of that row would touch)."""
    with source.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    step = max(len(body) // count, 1)
    picked = body[::step][:count]
    with target.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        for row in picked:
            row = list(row)
            if new:
                row[0] = row[0] + "-B" if scattered else "NEW-" + row[0]
            row[4] = f"{float(row[4]) + 1.11:.2f}"
            out.writerow(row)


def backend_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) a local PostgreSQL backend has used; None when it is not local."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class Timed:
    """One ingestion's wall time and the CPU it used: this process (the producer and COPY threads)
    and its PostgreSQL backend. CPU moves far less than wall time with the shared machine's load."""

    result: Any
    wall_s: float
    client_cpu_s: float
    backend_cpu_s: float | None

    def cpu(self) -> str:
        backend = "-" if self.backend_cpu_s is None else f"{self.backend_cpu_s:.1f}"
        return f"CPU client {self.client_cpu_s:.1f} s, backend {backend} s"


def timed_ingest(engine, tenant_id: uuid.UUID, path: Path, collection: str, key: str | None) -> Timed:  # noqa: ANN001
    started, cpu_started = time.perf_counter(), time.process_time()
    with Session(engine) as s:
        pid = s.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()  # the session's one connection
        backend_started = backend_cpu_s(pid)
        result = ingest_file(s, tenant_id=tenant_id, collection_name=collection, data=path,
                             entity_type="fastener", key_column=key, max_bytes=1 << 40)
        s.commit()
        backend_ended = backend_cpu_s(pid)
    backend = None if backend_started is None or backend_ended is None else backend_ended - backend_started
    return Timed(result, time.perf_counter() - started, time.process_time() - cpu_started, backend)


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def copy_rate(url: str, workdir: Path) -> float:
    with psycopg.connect(libpq_url(url), autocommit=True) as c:
        rows = c.execute("SELECT count(*) FROM records").fetchone()[0]
    return rows / timed_copy(url, "SELECT * FROM records", (), workdir / "keyed.copy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kariz-bench-keyed-") as tmp:
        workdir = Path(tmp)
        server = bench_server(args.database_url, workdir)
        catalog, updates, inserts = workdir / "catalog.csv", workdir / "updates.csv", workdir / "inserts.csv"
        scattered = workdir / "scattered.csv"
        synthetic_csv(catalog, args.rows)
        changed_csv(catalog, updates, args.changes, new=False)
        changed_csv(catalog, inserts, args.changes, new=True)
        changed_csv(catalog, scattered, args.changes, new=True, scattered=True)
        print(f"catalog: {args.rows:,} rows; change sets: {args.changes:,} rows", flush=True)

        plain_url, plain, plain_tenant = fresh(server, "kariz_bench_keyed")
        load = load_average()
        plain_load = timed_ingest(plain, plain_tenant, catalog, "fasteners", None)
        rows = plain_load.result.accepted
        print(f"unkeyed: {rows:,} rows in {plain_load.wall_s:.1f} s = {rows / plain_load.wall_s:,.0f} rows/s "
              f"({plain_load.cpu()}; load {load} -> {load_average()})", flush=True)
        keyed_url, keyed, keyed_tenant = fresh(server, "kariz_bench_keyed")
        load = load_average()
        keyed_load = timed_ingest(keyed, keyed_tenant, catalog, "fasteners", "part_number")
        assert keyed_load.result.inserted == args.rows, keyed_load.result
        ratio = keyed_load.wall_s / plain_load.wall_s
        cpu_ratio = (keyed_load.client_cpu_s + (keyed_load.backend_cpu_s or 0)) / (
            plain_load.client_cpu_s + (plain_load.backend_cpu_s or 0))
        print(f"keyed:   {args.rows:,} rows in {keyed_load.wall_s:.1f} s = {args.rows / keyed_load.wall_s:,.0f} rows/s "
              f"({keyed_load.cpu()}; load {load} -> {load_average()}) | keyed/unkeyed time = {ratio:.2f}, "
              f"CPU = {cpu_ratio:.2f}", flush=True)
        print(f"COPY:    {copy_rate(keyed_url, workdir):,.0f} rows/s", flush=True)

        with psycopg.connect(libpq_url(keyed_url), autocommit=True) as c:
            c.execute("VACUUM ANALYZE records")
        with psycopg.connect(libpq_url(plain_url), autocommit=True) as c:
            c.execute("VACUUM ANALYZE records")
        load = load_average()
        update = timed_ingest(keyed, keyed_tenant, updates, "fasteners", None)  # the remembered key
        assert update.result.updated == args.changes, update.result
        insert = timed_ingest(keyed, keyed_tenant, inserts, "fasteners", None)
        assert insert.result.inserted == args.changes, insert.result
        scattered_insert = timed_ingest(keyed, keyed_tenant, scattered, "fasteners", None)
        assert scattered_insert.result.inserted == args.changes, scattered_insert.result
        plain_insert = timed_ingest(plain, plain_tenant, inserts, "fasteners", None)
        print(f"in a {args.rows:,}-record collection (load {load} -> {load_average()}): "
              f"update {args.changes:,} keyed = {update.wall_s:.2f} s ({update.cpu()}), "
              f"insert {args.changes:,} keyed = {insert.wall_s:.2f} s ({insert.cpu()}), "
              f"scattered keys {scattered_insert.wall_s:.2f} s ({scattered_insert.cpu()}), "
              f"insert {args.changes:,} unkeyed = {plain_insert.wall_s:.2f} s | update/insert = "
              f"{update.wall_s / insert.wall_s:.2f} (scattered {update.wall_s / scattered_insert.wall_s:.2f})",
              flush=True)
        plain.dispose()
        keyed.dispose()
        ensure_dropped(server, plain_url)
        ensure_dropped(server, keyed_url)


if __name__ == "__main__":
    main()
