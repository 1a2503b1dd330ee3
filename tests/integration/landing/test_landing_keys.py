"""A landing-zone sidecar names the record key: a re-dropped catalog with a new price updates in place,
and a mirror drop archives what it no longer lists."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import httpx

from tests.integration.conftest import TenantKey
from tests.integration.landing.dagster_ticks import output_metadata, run, tick
from tests.integration.landing.test_landing_zone import drop, ours, root, search, tenant  # noqa: F401


async def test_sidecar_key_updates_in_place_and_mirror_archives(
    live_client: httpx.AsyncClient, tenant: TenantKey, root: Path, database_url: str  # noqa: F811
) -> None:
    folder = root / tenant.tenant_id / "parts"
    drops = [
        (b"part_number,name,price\nPG-0001-Z,Gasket Z,23.98\nPG-0002-Z,Gasket Y,5\n", {"key_column": "part_number"}),
        (b"part_number,name,price\nPG-0001-Z,Gasket Z,24.98\n", {"mode": "mirror"}),
    ]
    outcomes = []
    with dg.instance_for_test() as instance:
        for age, (content, sidecar) in zip((120, 60), drops, strict=True):
            (folder / "catalog.csv.meta.json").parent.mkdir(parents=True, exist_ok=True)
            (folder / "catalog.csv.meta.json").write_text(json.dumps(sidecar))
            drop(folder / "catalog.csv", content, age_s=age)
            (folder / "catalog.csv.ready").touch()
            [request] = ours(tick(instance, "landing_zone_sensor", database_url), tenant)
            executed = run(instance, "landing_file_job", request, database_url)
            assert executed.success
            outcomes.append(output_metadata(executed))
    assert (outcomes[0]["accepted"], outcomes[1]["accepted"]) == (2, 1)
    found = await search(live_client, tenant, "gasket")
    assert [(r["name"], r["collection_data"]["price"]) for r in found] == [("Gasket Z", 24.98)]
