"""Each stored connector is one partition of `connector_records`; the key is readable,
`<tenant name>/<connector name>` (a short id suffix only for a tenant's second connector of one
name): core/pulls/partitions.py says how and why. `connector_partition_sensor`
(orchestration/connectors.py) keeps the set equal to the connectors table."""

# no `from __future__ import annotations`: Dagster reads annotations at definition time

import dagster as dg

from core.pulls.partitions import PARTITIONS_NAME

CONNECTOR_PARTITIONS = dg.DynamicPartitionsDefinition(name=PARTITIONS_NAME)
