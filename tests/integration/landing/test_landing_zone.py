"""The landing zone end to end: drop a file -> landing_zone_sensor -> in-process run of
landing_file_job -> records searchable -> file moved; refused, duplicate, half-written and foreign files."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import dagster as dg
import httpx
import pytest
import pytest_asyncio

from core.errors import InvalidInput
from core.ingestion.landing import complete_files, process_landing_file, resolve_inside, scan_landing
from core.settings import Settings
from orchestration.resources import DatabaseResource
from tests.integration.conftest import TenantKey, register_tenant
from tests.integration.landing.dagster_ticks import (
    failure_metadata,
    materializations,
    output_metadata,
    run,
    tick,
)

V1 = "/api/v1"
CATALOG = (
    b"name,part_number,material\n"
    b"Stainless Steel Hex Head Bolt M8x40,SS-M8-40-A2,Stainless Steel A2\n"
    b"Hex Nut M8 DIN 934,HN-M8-934,Steel zinc plated\n"
)


@pytest_asyncio.fixture
async def tenant(live_client: httpx.AsyncClient) -> TenantKey:
    return await register_tenant(live_client, "land")


@pytest.fixture
def root(app_settings: Settings) -> Path:
    return Path(app_settings.landing_dir)


def drop(path: Path, content: bytes, *, age_s: float = 60) -> Path:
    """Write a file as a finished drop: its mtime `age_s` in the past."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    past = time.time() - age_s
    os.utime(path, (past, past))
    return path


def ours(result: dg.SensorResult, tenant: TenantKey) -> list[dg.RunRequest]:
    return [r for r in result.run_requests or [] if r.tags["kariz/tenant"] == tenant.tenant_id]


def settle(instance: dg.DagsterInstance, database_url: str) -> tuple[dg.SensorResult, str]:
    """Two ticks, the second with the first's cursor: what a running sensor sees after a while."""
    first = tick(instance, "landing_zone_sensor", database_url)
    return tick(instance, "landing_zone_sensor", database_url, cursor=first.cursor), first.cursor


async def search(client: httpx.AsyncClient, tenant: TenantKey, query: str) -> list[dict]:
    response = await client.post(f"{V1}/search/parts", json={"query": query}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["results"]


async def test_dropped_file_is_ingested_once_and_moved(
    live_client: httpx.AsyncClient, tenant: TenantKey, root: Path, database_url: str
) -> None:
    source = drop(root / tenant.tenant_id / "parts" / "fastener" / "catalog.csv", CATALOG)
    with dg.instance_for_test() as instance:
        first = tick(instance, "landing_zone_sensor", database_url)
        assert ours(first, tenant) == []  # seen once: not yet known to be complete
        second = tick(instance, "landing_zone_sensor", database_url, cursor=first.cursor)
        [request] = ours(second, tenant)
        assert request.tags["kariz/landing_file"] == f"{tenant.tenant_id}/parts/fastener/catalog.csv"
        # the same version of the file always gets the same run key: Dagster launches it once
        third = tick(instance, "landing_zone_sensor", database_url, cursor=second.cursor)
        assert [r.run_key for r in ours(third, tenant)] == [request.run_key]

        executed = run(instance, "landing_file_job", request, database_url)
        assert executed.success
        metadata = output_metadata(executed)
    assert metadata["outcome"] == "ingested"
    # the run materializes landing_files and collection_records for the readable partition
    [(partition, landed)] = materializations(executed, "landing_files")
    assert partition.endswith("/parts") and landed["rows_accepted"] == metadata["accepted"]
    [(records_partition, records)] = materializations(executed, "collection_records")
    assert records_partition == partition and records["source_type"] == "landing_zone"
    # one rendering of the ingestion for both assets, as the API's ingestions report it
    assert {k: v for k, v in landed.items() if k not in ("file", "moved_to")} == records
    assert records["status"] == "processing" and records["active_records"] == 2
    assert (metadata["submitted"], metadata["accepted"], metadata["rejected"], metadata["dedup_skipped"]) == (
        2,
        2,
        0,
        0,
    )
    assert metadata["file_hash"].startswith("sha256:")
    assert not source.exists()
    processed = list((root / tenant.tenant_id / "parts" / "processed" / "fastener").glob("*-catalog.csv"))
    assert len(processed) == 1 and processed[0].read_bytes() == CATALOG
    assert metadata["moved_to"] == processed[0].relative_to(root).as_posix()

    found = await search(live_client, tenant, "hex nut")
    assert [r["collection_data"]["part_number"] for r in found] == ["HN-M8-934"]
    assert found[0]["record_type"] == "fastener"
    assert found[0]["source_type"] == "landing_zone"


async def test_duplicate_drop_changes_nothing_and_says_so(
    live_client: httpx.AsyncClient, tenant: TenantKey, root: Path, database_url: str
) -> None:
    folder = root / tenant.tenant_id / "parts"
    with dg.instance_for_test() as instance:
        for attempt, age in enumerate((120, 60)):
            drop(folder / "catalog.csv", CATALOG, age_s=age)
            (folder / "catalog.csv.ready").touch()  # a marker: complete at once
            [request] = ours(tick(instance, "landing_zone_sensor", database_url), tenant)
            executed = run(instance, "landing_file_job", request, database_url)
            assert executed.success
            metadata = output_metadata(executed)
            expected = (2, 0) if attempt == 0 else (0, 2)
            assert (metadata["accepted"], metadata["dedup_skipped"]) == expected
            assert not (folder / "catalog.csv.ready").exists()
    assert len(list((folder / "processed").glob("*-catalog.csv"))) == 2
    assert len(await search(live_client, tenant, "bolt")) == 1
    # entity type from neither a folder nor a sidecar: the default
    assert (await search(live_client, tenant, "bolt"))[0]["record_type"] == "record"


async def test_refused_file_moves_to_failed_with_the_reason(
    live_client: httpx.AsyncClient, tenant: TenantKey, root: Path, database_url: str
) -> None:
    folder = root / tenant.tenant_id / "parts"
    drop(folder / "manual.pdf", b"this is not a PDF at all")
    drop(folder / "broken.json", b'[{"name": "x"}, {"name": ')
    drop(folder / "items.xml", b"<items><item><name>Bolt</name></item></items>")
    drop(folder / "items.xml.meta.json", b'{"record_tag": "item", "colour": "red"}')
    with dg.instance_for_test() as instance:
        result, _ = settle(instance, database_url)
        requests = ours(result, tenant)
        assert len(requests) == 3  # sidecars are not data files
        reasons = {}
        for request in requests:
            executed = run(instance, "landing_file_job", request, database_url)
            assert not executed.success  # a refused file is a red run
            description, metadata = failure_metadata(executed)
            assert metadata["outcome"] == "refused"
            reasons[Path(metadata["file"]).name] = description
    failed = folder / "failed"
    assert sorted(
        p.name.split("-", 1)[1] for p in failed.glob("*") if not p.name.endswith((".error.txt", ".meta.json"))
    ) == ["broken.json", "items.xml", "manual.pdf"]
    errors = {p.name.split("-", 1)[1]: p.read_text() for p in failed.glob("*.error.txt")}
    assert "BAD_REQUEST" in errors["manual.pdf.error.txt"]
    assert "unknown keys: colour" in errors["items.xml.error.txt"]
    assert "colour" in reasons["items.xml"]
    assert list(failed.glob("*-items.xml.meta.json"))  # the sidecar travels with its file
    assert [p for p in folder.iterdir() if p.is_file()] == []
    # a refused file leaves nothing behind: not even the collection it would have created
    missing = await live_client.get(f"{V1}/search/parts", params={"q": "bolt"}, headers=tenant.headers)
    assert missing.status_code == 404


async def test_every_row_rejected_is_a_refusal_with_the_row_errors(
    tenant: TenantKey, root: Path, database_url: str
) -> None:
    folder = root / tenant.tenant_id / "parts"
    drop(folder / "nameless.json", b'[{"name": ""}, {"name": "   "}]')
    (folder / "nameless.json.ready").touch()
    with dg.instance_for_test() as instance:
        [request] = ours(tick(instance, "landing_zone_sensor", database_url), tenant)
        executed = run(instance, "landing_file_job", request, database_url)
    assert not executed.success
    [error] = list((folder / "failed").glob("*.error.txt"))
    text = error.read_text()
    assert "every row was rejected (2 rows)" in text and "line 1" in text


async def test_half_written_files_are_not_picked_up(tenant: TenantKey, root: Path, database_url: str) -> None:
    folder = root / tenant.tenant_id / "parts"
    growing = drop(folder / "growing.csv", CATALOG[:40], age_s=0)
    drop(folder / "upload.csv.part", CATALOG, age_s=3600)  # in-progress name: never
    drop(folder / ".hidden.csv", CATALOG, age_s=3600)
    with dg.instance_for_test() as instance:
        first = tick(instance, "landing_zone_sensor", database_url)
        assert ours(first, tenant) == []
        # still being written: it grew (and its mtime moved) between the ticks
        with growing.open("ab") as fh:
            fh.write(CATALOG[40:])
        os.utime(growing, (time.time() - 30, time.time() - 30))
        second = tick(instance, "landing_zone_sensor", database_url, cursor=first.cursor)
        assert ours(second, tenant) == []
        # unchanged since the previous tick and settled: now it is complete
        third = tick(instance, "landing_zone_sensor", database_url, cursor=second.cursor)
        assert [r.tags["kariz/landing_file"].rsplit("/", 1)[1] for r in ours(third, tenant)] == [
            "growing.csv"
        ]
        # rewritten after the sensor saw it: the run leaves it for a later tick
        request = ours(third, tenant)[0]
        drop(growing, CATALOG + b"Rivet 4mm,RV-4,Aluminium\n", age_s=10)
        executed = run(instance, "landing_file_job", request, database_url)
        assert executed.success and output_metadata(executed)["outcome"] == "changed"
    assert growing.exists()


async def test_foreign_folders_and_escapes_are_ignored(
    tenant: TenantKey, root: Path, database_url: str, tmp_path: Path
) -> None:
    stranger = drop(root / str(uuid.uuid4()) / "parts" / "c.csv", CATALOG)
    (stranger.parent / "c.csv.ready").touch()
    drop(root / "not-a-tenant" / "parts" / "c.csv", CATALOG)
    outside = drop(tmp_path / "secret.csv", CATALOG)
    link_dir = root / tenant.tenant_id / "parts"
    link_dir.mkdir(parents=True, exist_ok=True)
    (link_dir / "linked.csv").symlink_to(outside)
    (link_dir / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    with dg.instance_for_test() as instance:
        result, _ = settle(instance, database_url)
    assert ours(result, tenant) == []
    files = [r.tags["kariz/landing_file"] for r in result.run_requests or []]
    assert not any("not-a-tenant" in f or str(stranger.parent.parent.parent.name) in f for f in files)
    assert stranger.exists() and outside.exists()
    assert all(f.relative != f"{tenant.tenant_id}/parts/linked.csv" for f in scan_landing(root))

    for bad in (
        f"{tenant.tenant_id}/../../secret.csv",
        "/etc/passwd",
        f"{tenant.tenant_id}/parts/linked.csv",
        f"{tenant.tenant_id}/parts/elsewhere/secret.csv",
        f"{tenant.tenant_id}/parts/processed/x.csv",
        "not-a-tenant/parts/c.csv",
    ):
        with pytest.raises(InvalidInput):
            resolve_inside(root, bad)
    with pytest.raises(InvalidInput):
        process_landing_file(
            DatabaseResource(url=database_url).session,
            root,
            f"{tenant.tenant_id}/parts/elsewhere/secret.csv",
            size=0,
            mtime_ns=0,
        )
    assert outside.exists()


def test_completeness_rule() -> None:
    from core.ingestion.landing import LandingFile

    now = 1_000_000.0
    old = int((now - 10) * 1e9)
    fresh = int((now - 0.5) * 1e9)
    t = uuid.uuid4()
    files = [
        LandingFile(f"{t}/c/a.csv", t, "c", None, 10, old, False),  # unchanged and settled
        LandingFile(f"{t}/c/b.csv", t, "c", None, 12, old, False),  # grew since the last tick
        LandingFile(f"{t}/c/d.csv", t, "c", None, 10, fresh, False),  # unchanged but too recent
        LandingFile(f"{t}/c/e.csv", t, "c", None, 10, fresh, True),  # marked ready
        LandingFile(f"{t}/c/f.csv", t, "c", None, 10, old, False),  # first seen
    ]
    previous = {f"{t}/c/a.csv": [10, old], f"{t}/c/b.csv": [10, old], f"{t}/c/d.csv": [10, fresh]}
    ready, seen = complete_files(files, previous, now=now)
    assert [f.name for f in ready] == ["a.csv", "e.csv"]
    assert set(seen) == {f.relative for f in files}


async def test_a_bulk_sized_file_lands_whole_and_searchable(
    live_client: httpx.AsyncClient, tenant: TenantKey, root: Path, database_url: str
) -> None:
    """30,000 rows: more than one write chunk (25,000 rows), all in one ingestion."""
    lines = [b"name,part_number,price"] + [
        f"Bulk widget {i} {('alpha', 'beta', 'gamma')[i % 3]},BW-{i:06d}-Z,{i % 97}.5".encode()
        for i in range(30_000)
    ]
    folder = root / tenant.tenant_id / "parts" / "widget"
    drop(folder / "bulk.csv", b"\n".join(lines) + b"\n")
    (folder / "bulk.csv.ready").touch()
    with dg.instance_for_test() as instance:
        [request] = ours(tick(instance, "landing_zone_sensor", database_url), tenant)
        executed = run(instance, "landing_file_job", request, database_url)
    assert executed.success
    assert output_metadata(executed)["accepted"] == 30_000
    found = await search(live_client, tenant, "BW-029999-Z")
    assert found[0]["collection_data"]["part_number"] == "BW-029999-Z" and found[0]["score"] == 1.0
    body = (
        await live_client.post(f"{V1}/search/parts", json={"query": "gamma widget"}, headers=tenant.headers)
    ).json()
    assert body["metadata"]["total_estimate"] > 1000
