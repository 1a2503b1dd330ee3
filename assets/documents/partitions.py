"""Each tenant with a RAG store is one partition of `rag_store_chunks`; the key is the tenant's id.

`store_operation_sensor` (orchestration/documents.py) adds a tenant's partition before its first run,
so an operator can pick tenants in the Dagster UI and backfill a full re-sync of their stores.
"""

# no `from __future__ import annotations`: Dagster reads annotations at definition time

import dagster as dg

STORE_TENANTS = dg.DynamicPartitionsDefinition(name="store_tenants")
