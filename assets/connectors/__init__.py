"""Connector pulls as a partitioned Dagster asset: `connector_records`, one partition per connector."""

from assets.connectors.assets import PullConfig, connector_records
from assets.connectors.partitions import CONNECTOR_PARTITIONS

__all__ = ["CONNECTOR_PARTITIONS", "PullConfig", "connector_records"]
