"""Ingestion benchmark: a CSV end to end through `ingest_file` beside PostgreSQL's own COPY.

Two catalogs: a synthetic fastener catalog (default 1,000,000 rows) and a real one built from
`apt-cache dumpavail` (every Debian package: name, version, section, sizes, description). For each,
the same run measures
  * ingest  - `core.ingestion.ingest_file` end to end: read, decode, parse, type, hash, identifiers,
              COPY to staging, INSERT ... ON CONFLICT into `records` computing search_text, commit;
  * COPY    - the rows that ingestion produced (every column, search_text included), exported and
              COPYed into an empty table `LIKE records INCLUDING ALL` (the same indexes), committed.
and prints rows/s for both and their ratio.

    .venv/bin/python bench/ingest_csv.py [--rows 1000000] [--skip-apt] [--database-url URL]

Without --database-url it starts an embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.db.embedded import ensure_database, start_embedded_server  # noqa: E402
from core.db.engine import make_sync_engine  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.db.urls import libpq_url  # noqa: E402
from core.ingestion import ingest_file  # noqa: E402
from core.tenants.service import create_tenant  # noqa: E402

MATERIALS = [
    "Stainless Steel A2",
    "Stainless Steel A4",
    "Zinc plated steel",
    "Brass",
    "Nylon",
    "Titanium Grade 5",
]
KINDS = [
    "Hex Head Bolt",
    "Socket Cap Screw",
    "Washer",
    "Hex Nut",
    "Threaded Rod",
    "Wood Screw",
    "Rivet",
    "Anchor",
]
STANDARDS = ["ISO 4017", "DIN 933", "ISO 4762", "DIN 125", "ISO 4032", "DIN 975"]
COUNTRIES = ["DE", "FR", "IT", "US", "CN", "JP"]


def synthetic_csv(path: Path, rows: int, seed: int = 7) -> None:
    """A fastener catalog: unique part numbers, names with sizes, materials, standards, prices, stock."""
    rnd = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(
            [
                "part_number",
                "name",
                "material",
                "standard",
                "price_eur",
                "weight_g",
                "in_stock",
                "country",
                "released",
            ]
        )
        for i in range(rows):
            kind, size, length = (
                rnd.choice(KINDS),
                rnd.choice([3, 4, 5, 6, 8, 10, 12, 16]),
                rnd.choice([10, 16, 20, 25, 30, 40, 50, 60, 80, 100]),
            )
            material = rnd.choice(MATERIALS)
            out.writerow(
                [
                    f"KZ-{i:07d}-M{size}",
                    f"{kind} M{size}x{length} {material}",
                    material,
                    rnd.choice(STANDARDS),
                    rnd.randint(1, 5000) / 100,
                    rnd.randint(1, 2000) / 10,
                    rnd.choice(["true", "false"]),
                    rnd.choice(COUNTRIES),
                    f"20{rnd.randint(20, 26)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                ]
            )


APT_FIELDS = [
    "Package",
    "Version",
    "Section",
    "Priority",
    "Architecture",
    "Installed-Size",
    "Size",
    "Maintainer",
    "Homepage",
    "Description",
]


def apt_catalog_csv(path: Path) -> int:
    """Every package `apt-cache dumpavail` knows, one row each; returns the row count (0 without apt)."""
    if not shutil.which("apt-cache"):
        return 0
    text = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=False).stdout
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.DictWriter(fh, fieldnames=[f.lower().replace("-", "_") for f in APT_FIELDS])
        out.writeheader()
        for stanza in text.split("\n\n"):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line[:1] in (" ", "\t") or ":" not in line:
                    continue
                key, _, value = line.partition(":")
                if key in APT_FIELDS:
                    fields[key.lower().replace("-", "_")] = value.strip()
            if "package" in fields:
                out.writerow(fields)
                n += 1
    return n


def bench_server(database_url: str | None, workdir: Path) -> str:
    if database_url:
        return database_url
    return start_embedded_server(workdir / "pg")


def fresh(server_url: str, prefix: str) -> tuple[str, sa.Engine, uuid.UUID]:
    """A new migrated database `<prefix>_<random>` on `server_url` holding one tenant, checkpointed
    so that what is timed next does not pay for the setup's writes: (url, engine, tenant id)."""
    url = ensure_database(server_url, f"{prefix}_{uuid.uuid4().hex[:8]}")
    upgrade(url)
    engine = make_sync_engine(url)
    with Session(engine) as s:
        tenant_id = create_tenant(s, f"bench-{uuid.uuid4().hex[:8]}").id
        s.commit()
    with psycopg.connect(libpq_url(url), autocommit=True) as c:
        c.execute("CHECKPOINT")
    return url, engine, tenant_id


def timed_copy(url: str, select: str, params: tuple[Any, ...], dump: Path) -> float:
    """The baseline: the rows of `select` COPYed out to `dump`, then the seconds it takes to COPY them
    back into an empty table shaped like `records` (indexes included). The table and dump are removed."""
    with psycopg.connect(libpq_url(url), autocommit=True) as c:
        with dump.open("wb") as fh, c.cursor().copy(f"COPY ({select}) TO STDOUT", params) as cp:
            for block in cp:
                fh.write(block)
        c.execute("CREATE TABLE bench_copy (LIKE records INCLUDING ALL)")
        c.execute("CHECKPOINT")
    with psycopg.connect(libpq_url(url)) as c:
        started = time.perf_counter()
        with dump.open("rb") as fh, c.cursor().copy("COPY bench_copy FROM STDIN") as cp:
            while block := fh.read(1 << 20):
                cp.write(block)
        c.commit()
        elapsed = time.perf_counter() - started
        c.execute("DROP TABLE bench_copy")
        c.commit()
    dump.unlink()
    return elapsed


def measure(server_url: str, csv_path: Path, rows: int, label: str, workdir: Path) -> dict[str, float]:
    """Ingest `csv_path` into a fresh database, then COPY the same rows into the same indexed table."""
    url, engine, tenant_id = fresh(server_url, "kariz_bench_ingest")
    started = time.perf_counter()
    with Session(engine) as s:
        result = ingest_file(
            s, tenant_id=tenant_id, collection_name=label, data=csv_path, entity_type=label, max_bytes=1 << 40
        )
        s.commit()
    ingest_s = time.perf_counter() - started
    engine.dispose()

    copy_s = timed_copy(
        url,
        "SELECT * FROM records WHERE collection_id = %s",
        (result.collection_id,),
        workdir / f"{label}.copy",
    )
    ensure_dropped(server_url, url)
    accepted = result.accepted
    return {
        "rows": rows,
        "accepted": accepted,
        "ingest_s": ingest_s,
        "copy_s": copy_s,
        "ingest_rps": accepted / ingest_s,
        "copy_rps": accepted / copy_s,
        "ratio": copy_s / ingest_s,
    }


def ensure_dropped(server_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    with psycopg.connect(libpq_url(server_url), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}"')


def report(label: str, m: dict[str, float]) -> None:
    print(
        f"{label}: {m['accepted']:,} rows | ingest {m['ingest_s']:.1f} s = {m['ingest_rps']:,.0f} rows/s | "
        f"COPY {m['copy_s']:.1f} s = {m['copy_rps']:,.0f} rows/s | ingest/COPY rate = {m['ratio']:.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-apt", action="store_true")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kariz-bench-ingest-") as tmp:
        workdir = Path(tmp)
        server = bench_server(args.database_url, workdir)
        if not args.skip_apt:
            apt = workdir / "apt.csv"
            n = apt_catalog_csv(apt)
            if n:
                report("apt catalog", measure(server, apt, n, "debian", workdir))
        synthetic = workdir / "synthetic.csv"
        synthetic_csv(synthetic, args.rows)
        size_mb = synthetic.stat().st_size / 1e6
        print(f"synthetic CSV: {args.rows:,} rows, {size_mb:.0f} MB", flush=True)
        report("synthetic", measure(server, synthetic, args.rows, "fasteners", workdir))


if __name__ == "__main__":
    main()
