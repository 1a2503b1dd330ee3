"""Dynamic partitions that sensors keep in step with the database, computed one way for every area.

A sensor that launches runs for partitions adds the keys Dagster does not have yet in the same tick
(`missing_partitions`); the sensor that owns a partition set makes it equal to its table
(`matching_partitions`: new keys added, gone ones dropped). Either hands `requests` to its
`SensorResult`.
"""

# no `from __future__ import annotations`: kept like the other orchestration modules Dagster reads

from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg


@dataclass(frozen=True, slots=True)
class PartitionChanges:
    """The keys of one partition set to add and to drop (sorted), and the requests that do it."""

    partitions: dg.DynamicPartitionsDefinition
    added: list[str]
    dropped: list[str]

    @property
    def requests(self) -> list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest]:
        """Empty when nothing changes."""
        found: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
        if self.added:
            found.append(self.partitions.build_add_request(self.added))
        if self.dropped:
            found.append(self.partitions.build_delete_request(self.dropped))
        return found


def _known(instance: dg.DagsterInstance, partitions: dg.DynamicPartitionsDefinition) -> set[str]:
    return set(instance.get_dynamic_partitions(partitions.name))


def missing_partitions(
    instance: dg.DagsterInstance, partitions: dg.DynamicPartitionsDefinition, keys: Iterable[str]
) -> PartitionChanges:
    """Adds those of `keys` the instance does not have yet; drops nothing."""
    return PartitionChanges(partitions, sorted(set(keys) - _known(instance, partitions)), [])


def matching_partitions(
    instance: dg.DagsterInstance, partitions: dg.DynamicPartitionsDefinition, wanted: Iterable[str]
) -> PartitionChanges:
    """Makes the instance's partitions equal to `wanted`: the new keys added, the others dropped."""
    wanted, known = set(wanted), _known(instance, partitions)
    return PartitionChanges(partitions, sorted(wanted - known), sorted(known - wanted))
