"""The contract's response shapes, the portal routes and the Dagster pieces, without I/O."""

from __future__ import annotations

import uuid

from api.app import create_app
from api.portal.controllers import ReplaceController
from api.uploads import upload_body_limit
from core.generations import CancelResult, SwapResult
from core.settings import Settings
from orchestration.definitions import defs
from orchestration.generations import promote_run_key


def test_swap_and_cancel_answer_exactly_the_contract_fields() -> None:
    swap = SwapResult("manufacturing", 1, 2, 2000, 2500, uuid.uuid4(), "a", "c", 3.2)
    assert swap.to_dict() == {
        "vertical": "manufacturing",
        "old_generation": 1,
        "new_generation": 2,
        "old_entity_count": 2000,
        "new_entity_count": 2500,
    }
    cancel = CancelResult("manufacturing", 2, 2500, True)
    assert cancel.to_dict() == {
        "vertical": "manufacturing",
        "cancelled_generation": 2,
        "entities_archived": 2500,
    }


def test_portal_routes_are_mounted_under_the_api_with_operation_ids() -> None:
    app = create_app(Settings(env="test", database_url="postgresql://nobody@localhost/none"))
    paths = {route.path for route in app.routes}
    for suffix in ("replace", "replace-status", "swap", "cancel-replace", "auto-promote"):
        assert f"/api/v1/portal/verticals/{{name:str}}/{suffix}" in paths
    handlers = [
        getattr(ReplaceController, n) for n in ("replace", "replace_status", "swap", "cancel_replace")
    ]
    assert all(h.operation_id for h in handlers)
    assert ReplaceController.guards


def test_uploads_up_to_the_limit_pass_the_transport() -> None:
    settings = Settings()
    assert settings.max_upload_bytes < upload_body_limit(settings)


def test_a_promotion_is_keyed_by_collection_and_generation() -> None:
    collection = uuid.UUID("00000000-0000-0000-0000-000000000001")
    assert promote_run_key(collection, 3) == "promote:00000000-0000-0000-0000-000000000001:3"


def test_dagster_pieces_are_defined() -> None:
    repository = defs.get_repository_def()
    assert {j.name for j in repository.get_all_jobs()} >= {
        "promote_generation_job",
        "archive_generation_records_job",
        "generation_cleanup_job",
    }
    assert {s.name for s in repository.sensor_defs} >= {"auto_promote_sensor", "archive_records_sensor"}
    assert "generation_cleanup_schedule" in {s.name for s in repository.schedule_defs}
