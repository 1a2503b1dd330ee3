"""What the portal answers for a swap and a cancel, the upload limit the transport lets through,
and a promotion's run key: pure functions, no I/O."""

from __future__ import annotations

import uuid

import msgspec

from api.portal.schemas import CancelView, SwapView
from api.uploads import upload_body_limit
from core.generations import CancelResult, SwapResult
from core.settings import Settings
from orchestration.generations import promote_run_key


def test_swap_and_cancel_answer_exactly_the_contract_fields() -> None:
    swap = SwapResult("manufacturing", 1, 2, 2000, 2500, uuid.uuid4(), "a", "c", 3.2)
    assert msgspec.to_builtins(SwapView.of(swap)) == {
        "vertical": "manufacturing",
        "old_generation": 1,
        "new_generation": 2,
        "old_entity_count": 2000,
        "new_entity_count": 2500,
    }
    cancel = CancelResult("manufacturing", 2, 2500, True)
    assert msgspec.to_builtins(CancelView.of(cancel)) == {
        "vertical": "manufacturing",
        "cancelled_generation": 2,
        "entities_archived": 2500,
    }


def test_uploads_up_to_the_limit_pass_the_transport() -> None:
    settings = Settings()
    assert settings.max_upload_bytes < upload_body_limit(settings)


def test_a_promotion_is_keyed_by_collection_and_generation() -> None:
    collection = uuid.UUID("00000000-0000-0000-0000-000000000001")
    assert promote_run_key(collection, 3) == "promote:00000000-0000-0000-0000-000000000001:3"
