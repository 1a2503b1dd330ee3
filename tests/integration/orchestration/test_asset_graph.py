"""The asset graph an operator sees in the Dagster UI: its keys, lineage, partitions and checks."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs

DATA_PATH = ["connector_records", "collection_records", "collection_search_text", "collection_embeddings",
             "collection_generation"]
COLLECTION_STAGES = ["landing_files", *DATA_PATH[1:], "collection_exports"]


def test_the_data_path_is_one_lineage_from_connectors_to_vectors() -> None:
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert set(DATA_PATH) <= keys
    for upstream, downstream in zip(DATA_PATH, DATA_PATH[1:], strict=False):
        parents = {key.to_user_string() for key in graph.get(dg.AssetKey(downstream)).parent_keys}
        assert upstream in parents, downstream
    records_from = {key.to_user_string() for key in graph.get(dg.AssetKey("collection_records")).parent_keys}
    assert records_from == {"connector_records", "landing_files"}
    exports_from = {key.to_user_string() for key in graph.get(dg.AssetKey("collection_exports")).parent_keys}
    assert exports_from == {"collection_records"}
    assert not graph.get(dg.AssetKey("connector_records")).parent_keys


def test_collection_stages_share_one_partition_set_and_connectors_have_theirs() -> None:
    from core.collections.events import PARTITIONS_NAME as COLLECTIONS
    from core.pulls.partitions import PARTITIONS_NAME as CONNECTORS

    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey("connector_records")).partitions_def.name == "connectors" == CONNECTORS
    # the jobs the API launches in a partition (api/requests/launch.py names the sets by core's names)
    assert defs.resolve_job_def("connector_pull_job").partitions_def.name == CONNECTORS
    assert defs.resolve_job_def("reindex_collection_job").partitions_def.name == "collections" == COLLECTIONS
    assert "<tenant name>/<connector name>" in graph.get(dg.AssetKey("connector_records")).description
    for name in COLLECTION_STAGES:
        partitions = graph.get(dg.AssetKey(name)).partitions_def
        assert isinstance(partitions, dg.DynamicPartitionsDefinition)
        assert partitions.name == "collections", name


def test_collection_records_is_reported_not_computed_and_says_what_it_is() -> None:
    node = defs.resolve_asset_graph().get(dg.AssetKey("collection_records"))
    assert node.is_external and not node.is_materializable  # the API reports it; no run computes it
    assert node.group_name == "ingestion"
    assert node.owners == ["team:ingestion"]
    assert "postgres" in node.kinds
    assert "rows accepted" in node.description


def test_asset_checks_are_on_the_assets_they_guard_per_collection_partition() -> None:
    graph = defs.resolve_asset_graph()
    checks = {(key.asset_key.to_user_string(), key.name): key for key in graph.asset_check_keys}
    collection_checks = {
        ("collection_embeddings", "vectors_match_indexed_records"),
        ("collection_embeddings", "no_stale_pending_embeddings"),
        ("collection_generation", "one_active_generation"),
        ("collection_search_text", "search_text_rebuilt"),
        ("collection_exports", "export_files_present"),
    }
    assert collection_checks <= set(checks)
    for pair in collection_checks:
        node = graph.get(checks[pair])
        assert node.partitions_def is not None and node.partitions_def.name == "collections", pair
    schedule = defs.get_repository_def().get_schedule_def("collection_checks_schedule")
    assert schedule.job_name == "collection_checks_job"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_api_reports_the_asset_and_partitions_the_graph_declares() -> None:
    from api import asset_events
    from assets.embeddings.partitions import COLLECTION_PARTITIONS
    from assets.ingestion.records import RECORDS_ASSET

    assert (RECORDS_ASSET, COLLECTION_PARTITIONS.name) == (asset_events.RECORDS_ASSET, asset_events.PARTITIONS_NAME)
