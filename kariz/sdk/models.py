"""Typed results of the Kariz API.

Every model accepts the field names in snake_case or camelCase (the contract pages use both) and
keeps fields it does not know, so a newer server never breaks an older SDK.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, AliasGenerator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


def _either_case(name: str) -> AliasChoices:
    return AliasChoices(name, to_camel(name))


class KarizModel(BaseModel):
    """Base of every result: tolerant of extra fields and of either naming style."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        alias_generator=AliasGenerator(validation_alias=_either_case),
    )


# ------------------------------------------------------------------ search


class SearchHit(KarizModel):
    record_id: str
    name: str
    score: float | None = None
    collection: str | None = None
    record_type: str | None = None
    collection_data: dict[str, Any] = Field(default_factory=dict)
    description_llm: str | None = None
    source_type: str | None = None
    updated_at: datetime | None = None


class Pagination(KarizModel):
    offset: int = 0
    limit: int = 20
    has_more: bool = False


class SearchMetadata(KarizModel):
    search_mode: str | None = None
    query_type: str | None = None
    processing_time_ms: float | None = None
    total_estimate: int | None = None
    zero_result_fallback_used: bool = False
    cache_hit: bool = False
    timings: dict[str, float] = Field(default_factory=dict)


class SearchResponse(KarizModel):
    results: list[SearchHit] = Field(default_factory=list)
    pagination: Pagination = Field(default_factory=Pagination)
    metadata: SearchMetadata = Field(default_factory=SearchMetadata)


# ------------------------------------------------------------------ ingestion and replace


class IngestionSummary(KarizModel):
    submitted: int = 0
    accepted: int = 0
    rejected: int = 0
    dedup_skipped: int = 0
    # record identity: without a key, inserted = accepted and unchanged = dedup_skipped
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0
    replaced_in_file: int = 0
    replaced: list[dict[str, Any]] = Field(default_factory=list)


class IngestionMetadata(KarizModel):
    processing_time_ms: float | None = None
    file_hash: str | None = None
    reconciliation_passed: bool | None = None
    pipeline_backpressure: bool | None = None
    record_key: list[str] | None = None
    mode: str | None = None


class RecordChanges(KarizModel):
    """A keyed replace against the live generation."""

    added: int = 0
    changed: int = 0
    removed: int = 0


class StagingInfo(KarizModel):
    generation: int
    status: str
    vertical: str | None = None


class IngestionResult(KarizModel):
    ingestion_id: str | None = None
    status: str
    summary: IngestionSummary = Field(default_factory=IngestionSummary)
    errors: list[dict[str, Any]] = Field(default_factory=list)
    metadata: IngestionMetadata = Field(default_factory=IngestionMetadata)
    staging: StagingInfo | None = None


class ReplaceStatus(KarizModel):
    has_pending_replace: bool
    staging_generation: int | None = None
    staging_status: str | None = None
    total: int | None = None
    indexed: int | None = None
    pending: int | None = None
    processing: int | None = None
    failed: int | None = None
    ready_to_swap: bool | None = None
    record_changes: RecordChanges | None = None


class SwapResult(KarizModel):
    vertical: str
    old_generation: int | None = None
    new_generation: int
    old_entity_count: int | None = None
    new_entity_count: int | None = None
    record_changes: RecordChanges | None = None


class CancelReplaceResult(KarizModel):
    vertical: str
    cancelled_generation: int
    entities_archived: int = 0


# ------------------------------------------------------------------ connectors


class Connector(KarizModel):
    id: str
    name: str
    connector_type: str
    vertical: str
    entity_type: str
    connection_config: Any = "***REDACTED***"
    key_column: str | None = None
    deleted_column: str | None = None
    mode: str | None = None
    created_at: datetime | None = None


class PullResult(KarizModel):
    status: str
    records_pulled: int | None = None
    records_ingested: int | None = None
    duplicates_skipped: int | None = None
    records_inserted: int | None = None
    records_updated: int | None = None
    records_archived: int | None = None
    mirror: str | None = None
    duration_seconds: float | None = None
    request_id: str | None = None
    status_url: str | None = None


# ------------------------------------------------------------------ exports


class ExportJob(KarizModel):
    export_id: str
    status: str


class ExportStatus(KarizModel):
    status: str
    progress: int = 0
    total: int | None = None
    error: str | None = None
    export_id: str | None = None

    @property
    def is_complete(self) -> bool:
        return self.status == "completed"

    @property
    def is_processing(self) -> bool:
        return self.status == "processing"


class ExportInfo(ExportStatus):
    collection: str | None = None
    format: str | None = None
    created_at: datetime | None = None


class ExportDownload(KarizModel):
    """What `Client.export()` / `download_export()` wrote."""

    export_id: str
    path: Path | None = None
    bytes: int
    filename: str | None = None
    content_type: str | None = None
    rows: int | None = None


# ------------------------------------------------------------------ admin and health


class TenantSummary(KarizModel):
    tenant_id: str
    record_count: int = 0
    collections: list[str] = Field(default_factory=list)
    created_at: datetime | None = None


class SystemStats(KarizModel):
    total_records: int = 0
    records_by_status: dict[str, int] = Field(default_factory=dict)
    indexing_status: dict[str, int] = Field(default_factory=dict)
    queue_depth: int = 0


class ReindexResult(KarizModel):
    collection: str
    records_reset: int
    message: str | None = None


class RecordReindexResult(KarizModel):
    record_id: str
    status: str
    message: str | None = None


class Health(KarizModel):
    status: str
    version: str | None = None
    uptime: float | None = None


class Readiness(KarizModel):
    """`/health/ready`: a 503 answer is a result too (`ready` False), not an exception."""

    status: str | None = None
    ready: bool = True
    checks: Any = None


# ------------------------------------------------------------------ tenants and keys


class Registration(KarizModel):
    api_key: str
    tenant_id: str
    scopes: list[str] = Field(default_factory=list)


class Tenant(KarizModel):
    id: str
    name: str
    email: str | None = None
    plan: str | None = None
    limits: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None


class CreatedTenant(Tenant):
    api_key: str
    scopes: list[str] = Field(default_factory=list)


class ApiKeyInfo(KarizModel):
    id: str
    name: str
    prefix: str | None = None
    scopes: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked: bool = False


class CreatedApiKey(ApiKeyInfo):
    """A new key; `api_key` is the secret, shown this once."""

    api_key: str
