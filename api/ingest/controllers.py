"""`POST /ingest/{collection}/file` (multipart CSV, JSON, NDJSON, XML, PDF) and `POST /ingest/{collection}`
(a JSON list of records): both call `core.ingestion` in a worker thread and answer the contract's
ingestion result; after the commit each reports a materialization of the collection's
`collection_records` partition to Dagster (`api/asset_events.py`)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, post
from litestar.concurrency import sync_to_thread
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession

from api.asset_events import report_collection_records
from api.auth.guards import requires_scope
from api.auth.principal import AuthedRequest
from api.ingest.schemas import RECORDS_BODY, IngestionView, ingestion_view
from api.requests.launch import launch_embedding
from api.uploads import read_upload
from api.worker_sessions import run_in_worker_session
from core.collections import events
from core.collections.events import CollectionNames
from core.errors import InvalidInput, ValidationFailed
from core.ingestion.json_rows import one_record_or_wrapper
from core.ingestion.pipeline import IngestionResult, ingest_file, ingest_records
from core.metrics import INGESTED_RECORDS, INGESTIONS, REJECTED_RECORDS


async def _report(
    result: IngestionResult,
    after: tuple[CollectionNames | None, int | None],
    *,
    source_type: str,
    source_name: str | None,
) -> None:
    """The committed ingestion as a `collection_records` materialization (never raises), and its
    new or changed records' embedding run launched now; `after` is `events.after_ingestion` read
    in the ingestion's session."""
    names, records = after
    if result.status == "failed" or names is None:
        return
    if result.inserted or result.updated:
        launch_embedding(names.tenant_id, result.collection_id)
    await sync_to_thread(
        report_collection_records,
        result,
        tenant_id=names.tenant_id,
        tenant_name=names.tenant_name,
        source_type=source_type,
        source_name=source_name,
        active_records=records,
    )


def _observe(result: IngestionResult, source_type: str) -> IngestionView:
    """The contract's result; ValidationFailed (422, with the per-row errors and the summary) when
    every row was rejected, so a client never mistakes a file that ingested nothing for a success."""
    INGESTIONS.labels(source_type, result.status).inc()
    INGESTED_RECORDS.labels(source_type).inc(result.accepted)
    REJECTED_RECORDS.labels(source_type).inc(result.rejected)
    view = ingestion_view(result)
    if result.status == "failed":  # rows were rejected and none written, updated, deleted or deduplicated
        raise ValidationFailed(
            f"every row was rejected ({result.rejected}); nothing was ingested",
            extra={
                "errors": view.errors,
                "summary": msgspec.to_builtins(view.summary),
                "ingestion_id": view.ingestion_id,
            },
        )
    return view


def _records_of(body: bytes) -> list[Any]:
    """The records of an `/ingest/{collection}` body: a JSON array, or one record object
    (`{name, collection_data, ...}` or a flat object); an object wrapping an array of records is 400."""
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        reason = str(exc).removeprefix("JSON is malformed:").strip()
        raise InvalidInput(f"malformed JSON: {reason}") from None
    except RecursionError:
        raise InvalidInput("malformed JSON: the body nests too deeply") from None
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        wrapped = one_record_or_wrapper(value)
        if wrapped is not None:
            raise InvalidInput(
                f"body must be a JSON list of records; found an object whose '{wrapped}' "
                "field holds a list of records: send that list"
            )
        return [value]
    raise InvalidInput("body must be a JSON list of records")


class IngestController(Controller):
    path = "/ingest"
    tags = ["ingestion"]
    guards = [requires_scope("tenant:write")]

    @post("/{collection:str}/file", operation_id="ingestFile", status_code=200)
    async def ingest_file(
        self,
        request: AuthedRequest,
        db_session: AsyncSession,
        collection: str,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
        entity_type: str | None = None,
        source_name: str | None = None,
        record_tag: str | None = None,
        name_column: str | None = None,
        format: str | None = None,
        key_column: str | None = None,
        deleted_column: str | None = None,
        mode: str | None = None,
    ) -> IngestionView:
        """Ingest one file (multipart field `file`) into the collection, created on first use.

        Without a key, rows are deduplicated by content; re-uploading a file changes nothing and says
        so. With `key_column` (remembered by the collection) a changed row updates its record in
        place, `deleted_column` soft-deletes and `mode=mirror` archives the keys the file lacks. A bad
        row is reported with its line; a file that cannot be read at all changes nothing."""
        content, filename = await read_upload(data)
        tenant_id = request.user.tenant_id

        def work(session):  # noqa: ANN001, ANN202
            result = ingest_file(
                session,
                tenant_id=tenant_id,
                collection_name=collection,
                data=content,
                filename=filename,
                entity_type=entity_type,
                source_name=source_name,
                record_tag=record_tag,
                name_column=name_column,
                file_format=format,
                key_column=key_column,
                deleted_column=deleted_column,
                mode=mode or "append",
            )
            return result, events.after_ingestion(session, result.collection_id, result.generation)

        result, after = await run_in_worker_session(db_session, work, commit=True)
        body = _observe(result, "file_upload")
        await _report(result, after, source_type="file_upload", source_name=source_name or filename)
        return body

    @post(
        "/{collection:str}", operation_id="ingestRecords", status_code=200, opt={"request_body": RECORDS_BODY}
    )
    async def ingest_records(
        self,
        request: AuthedRequest,
        db_session: AsyncSession,
        collection: str,
        entity_type: str | None = None,
        source_name: str | None = None,
        name_column: str | None = None,
        key_column: str | None = None,
        deleted_column: str | None = None,
        mode: str | None = None,
    ) -> IngestionView:
        """Ingest a JSON list of records: flat objects (the name taken from `name_column` or detected)
        or `{name, collection_data, record_type?, description_llm?}` objects; `key_column`,
        `deleted_column` and `mode` as for files."""
        records = _records_of(await request.body())
        tenant_id = request.user.tenant_id

        def work(session):  # noqa: ANN001, ANN202
            result = ingest_records(
                session,
                tenant_id=tenant_id,
                collection_name=collection,
                records=records,
                entity_type=entity_type,
                source_type="api",
                source_name=source_name,
                name_column=name_column,
                key_column=key_column,
                deleted_column=deleted_column,
                mode=mode or "append",
            )
            return result, events.after_ingestion(session, result.collection_id, result.generation)

        result, after = await run_in_worker_session(db_session, work, commit=True)
        body = _observe(result, "api")
        await _report(result, after, source_type="api", source_name=source_name)
        return body


# every route of the area takes an upload (or a body as large): mounted with the upload body limit
UPLOAD_ROUTES = [IngestController]
