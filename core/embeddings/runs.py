"""What an embedding run of one collection is asked with: its run key and run config.

One definition for the two places that ask for such a run: Dagster's `embedding_sensor`
(orchestration/embeddings.py) and the API, which launches it right after an ingestion commits new
records (api/requests/launch.py), so both ask with the same key and Dagster's run-key check
dedupes them.
"""

from __future__ import annotations

import time
import uuid

EMBED_JOB = "embed_collection_job"
EMBED_OP = "embed_collection"
EMBED_SENSOR = "embedding_sensor"
AREA_TAGS = {"kariz/area": "embeddings"}
#: runs for one collection are keyed per window: a sensor tick never asks twice for one window
RUN_KEY_WINDOW_S = 10


def embed_run_key(collection_id: uuid.UUID | str, now: float | None = None) -> str:
    """The run key of a collection's embedding run asked for at `now` (epoch seconds)."""
    window = int((time.time() if now is None else now) // RUN_KEY_WINDOW_S)
    return f"embed:{collection_id}:{window}"


def embed_run_config(tenant_id: uuid.UUID | str, collection_id: uuid.UUID | str, **options: object) -> dict:
    """Run config of `embed_collection_job` for one collection."""
    return {
        "ops": {
            EMBED_OP: {
                "config": {"tenant_id": str(tenant_id), "collection_id": str(collection_id), **options}
            }
        }
    }
