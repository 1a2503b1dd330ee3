"""`collection_generation`: which generation of a collection is live, one partition per collection.

External: replaces and swaps happen in core (`core.generations`), through the API or an auto-promote
run, and each reports a materialization of the collection's partition (`core/collections/events.py`):
a replace (`operation: replace`) loads a staging generation, a swap (`operation: swap`) makes it live.
"""

# no `from __future__ import annotations`: kept like the other asset modules Dagster reads

import dagster as dg

from assets.embeddings.partitions import COLLECTION_PARTITIONS
from core.collections.events import GENERATION

collection_generation = dg.AssetsDefinition(
    specs=[
        dg.AssetSpec(
            GENERATION,
            deps=["collection_embeddings"],
            partitions_def=COLLECTION_PARTITIONS,
            group_name="generations",
            kinds={"postgres"},
            owners=["team:generations"],
            description="The live generation of a collection (partition = `<tenant name>/<collection>`). "
            "A replace reports operation=replace with the staging generation and its records; a swap "
            "(API or auto-promote) reports operation=swap with the live generation, the previous one, "
            "their record counts, the vector collection, the record changes and the swap duration.",
        )
    ]
)
