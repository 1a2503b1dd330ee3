"""The ingestion result as the API answers it, for tests that call core directly."""

from __future__ import annotations

from typing import Any

import msgspec

from api.ingest.schemas import ingestion_view
from core.ingestion import IngestionResult


def rendered(result: IngestionResult) -> dict[str, Any]:
    """`result` as the contract's JSON body (ingestion_id, status, summary, errors, metadata)."""
    return msgspec.to_builtins(ingestion_view(result))
