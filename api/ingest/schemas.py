"""The contract's ingestion result (`POST /ingest/...`, and inside a blue-green replace) and the
documented body of `POST /ingest/{collection}`."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPIMediaType, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIType

from core.ingestion.pipeline import IngestionResult


class IngestionSummary(msgspec.Struct):
    """What the rows did; with a record key also inserted, updated, unchanged, archived and the
    rows replaced in the file (`replaced`: `{line, replaced_by_line, key}`, the first 1000)."""

    submitted: int
    accepted: int
    rejected: int
    dedup_skipped: int
    inserted: int
    updated: int
    unchanged: int
    archived: int
    replaced_in_file: int
    replaced: list[dict[str, Any]]


class IngestionMetadata(msgspec.Struct):
    processing_time_ms: int
    file_hash: str
    reconciliation_passed: bool
    pipeline_backpressure: bool
    record_key: list[str] | None
    mode: str


class IngestionView(msgspec.Struct):
    """One ingestion: its id, status, counts, the rejected rows with their lines, and metadata."""

    ingestion_id: str
    status: str
    summary: IngestionSummary
    errors: list[dict[str, Any]]
    metadata: IngestionMetadata


def ingestion_view(result: IngestionResult) -> IngestionView:
    """The contract's ingestion result of `result`."""
    return IngestionView(
        ingestion_id=str(result.ingestion_id),
        status=result.status,
        summary=IngestionSummary(
            submitted=result.submitted,
            accepted=result.accepted,
            rejected=result.rejected,
            dedup_skipped=result.dedup_skipped,
            inserted=result.inserted,
            updated=result.updated,
            unchanged=result.unchanged,
            archived=result.archived,
            replaced_in_file=result.replaced_in_file,
            replaced=result.replaced_lines,
        ),
        errors=result.errors,
        metadata=IngestionMetadata(
            processing_time_ms=result.processing_time_ms,
            file_hash=result.file_hash,
            reconciliation_passed=result.reconciliation_passed,
            pipeline_backpressure=result.pipeline_backpressure,
            record_key=result.record_key,
            mode=result.mode,
        ),
    )


RECORDS_BODY = RequestBody(
    required=True,
    description="A JSON array of records: structured `{name, collection_data, record_type?, "
    "description_llm?}` objects or flat objects (the name from `name_column` or detected); one record "
    "object alone is accepted as a list of one.",
    content={
        "application/json": OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.ARRAY,
                items=Schema(
                    type=OpenAPIType.OBJECT,
                    properties={
                        "name": Schema(type=OpenAPIType.STRING),
                        "collection_data": Schema(type=OpenAPIType.OBJECT, additional_properties=Schema()),
                        "record_type": Schema(type=OpenAPIType.STRING),
                        "description_llm": Schema(type=OpenAPIType.STRING),
                    },
                    additional_properties=Schema(description="a flat record's fields"),
                ),
            )
        )
    },
)
