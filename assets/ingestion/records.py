"""`collection_records`: the active records of a collection, one partition per collection.

Its partitions are `collections` (key = `<tenant name>/<collection>`), the set every collection stage
uses, so an operator picks a collection once and sees every stage of it.
The asset is external: Dagster does not compute it, the write path reports it. The API's
synchronous ingestion (`POST /ingest/{collection}/file`, `POST /ingest/{collection}`) records a
runless materialization of the collection's partition after its commit (`api/asset_events.py`),
with the counts of that ingestion as metadata; a landing-zone run materializes it (and
`landing_files`) for the file it ingested.

Lineage: `connector_records` (any connector may write into a collection, so every connector
partition feeds every collection partition) → `collection_records` → `collection_search_text` →
`collection_embeddings`.
"""

# no `from __future__ import annotations`: kept like the other asset modules Dagster reads

import dagster as dg

from assets.embeddings.partitions import COLLECTION_PARTITIONS

RECORDS_ASSET = "collection_records"

collection_records_spec = dg.AssetSpec(
    RECORDS_ASSET,
    deps=[dg.AssetDep("connector_records", partition_mapping=dg.AllPartitionMapping()), "landing_files"],
    partitions_def=COLLECTION_PARTITIONS,
    group_name="ingestion",
    kinds={"postgres"},
    owners=["team:ingestion"],
    description="The records of a collection in PostgreSQL (partition = `<tenant name>/<collection>`). Each "
    "ingestion (API, landing zone) reports a materialization: rows accepted, rejected and deduplicated, records inserted, "
    "updated and unchanged, the file hash, the source, the duration and the active records after it.",
)

landing_files_spec = dg.AssetSpec(
    "landing_files",
    partitions_def=COLLECTION_PARTITIONS,
    group_name="ingestion",
    kinds={"file"},
    owners=["team:ingestion"],
    description="Files dropped into `<landing_dir>/<tenant id>/<collection>/` (partition = "
    "`<tenant name>/<collection>`). Each file a landing_file_job run ingests is a materialization: file, where it was "
    "moved, rows accepted, rejected and deduplicated, file hash, duration.",
)

collection_records = dg.AssetsDefinition(specs=[collection_records_spec])
"""The external asset `load_assets_from_package_module` finds (a bare AssetSpec it would skip)."""
landing_files = dg.AssetsDefinition(specs=[landing_files_spec])
