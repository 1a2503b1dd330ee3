"""Each stored connector is one partition of `connector_records`; the key is the connector's id."""

# no `from __future__ import annotations`: Dagster reads annotations at definition time

import dagster as dg

CONNECTOR_PARTITIONS = dg.DynamicPartitionsDefinition(name="connectors")
