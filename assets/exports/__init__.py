"""`collection_exports`: export files of a collection, one partition per collection.

External: `export_job` runs (one per export request) serve exports with `core.exports`, which reports
each finished file as a materialization of the collection's partition (`core/collections/events.py`).
"""

# no `from __future__ import annotations`: kept like the other asset modules Dagster reads

import dagster as dg

from assets.embeddings.partitions import COLLECTION_PARTITIONS
from core.collections.events import EXPORTS

collection_exports = dg.AssetsDefinition(
    specs=[
        dg.AssetSpec(
            EXPORTS,
            deps=["collection_records"],
            partitions_def=COLLECTION_PARTITIONS,
            group_name="exports",
            kinds={"file"},
            owners=["team:exports"],
            description="CSV/JSON export files of a collection (partition = `<tenant name>/<collection>`). Each "
            "finished export: export id, format, record status, rows, bytes, columns, path, expiry, duration.",
        )
    ]
)
