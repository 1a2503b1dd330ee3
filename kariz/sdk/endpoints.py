"""Every API operation, written once for both clients.

Each method describes its call and hands it to `self._call`, which the sync client answers with the
result and the async client with an awaitable of it. The streams go the same way: `self._events`
(an iterator, or an async iterator, of events), `self._download` and `self._export`. Return
annotations name the sync client's result type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from kariz.sdk import models as m
from kariz.sdk.chat import CHAT_PATH, ChatEvent, chat_body, to_chat_event
from kariz.sdk.estimates import ANALYZE_PATH, EstimateEvent, ImageSource, analyze_body
from kariz.sdk.export_flow import Destination, ExportFlow, start_call, status_call
from kariz.sdk.transport import Call, FileSource, Upload, as_json, as_model, as_models, as_none

T = TypeVar("T")
PULL_WAIT_S = 30.0  # how long the server waits for a pull by default (api/connectors)
PULL_HTTP_MARGIN_S = 15.0  # the SDK waits this much longer than the server, so the server answers first


def _file(file: FileSource, filename: str | None, content_type: str | None) -> Upload:
    return Upload(file, filename=filename, content_type=content_type)


class Endpoints:
    """The API surface. `_call(call)` is supplied by the client class."""

    def _call(self, call: Call[T]) -> Any:  # pragma: no cover - replaced by both clients
        raise NotImplementedError

    def _events(self, path: str, tenant_id: str | None, body: Callable[[str], dict[str, Any]],
                convert: Callable[[EstimateEvent], Any]) -> Any:  # pragma: no cover - replaced by both clients
        """The events of `POST path` with `body(tenant id)` (the caller's own tenant when `tenant_id` is
        None), each through `convert` (None skips it), as they arrive; an error status raises first."""
        raise NotImplementedError

    def _download(self, export_id: str, to: Destination, *, progress: bool,
                  rows: int | None) -> Any:  # pragma: no cover - replaced by both clients
        raise NotImplementedError

    def _export(self, new_flow: Callable[[], ExportFlow]) -> Any:  # pragma: no cover - replaced by both clients
        raise NotImplementedError

    # -------------------------------------------------------------- search

    def search(
        self,
        collection: str,
        query: str | None = None,
        *,
        filters: dict[str, Any] | None = None,
        limit: int = 20,
        offset: int = 0,
        sort: str | None = None,
        format: str | None = None,
        search_mode: str | None = None,
        semantic_weight: float | None = None,
    ) -> m.SearchResponse:
        """POST /search/{collection}: identifier, full-text, semantic or hybrid search (`search_mode`
        auto, fulltext, semantic, hybrid; `semantic_weight` 0-1) with filters and sort."""
        body: dict[str, Any] = {"limit": limit, "offset": offset}
        if search_mode is not None:
            body["search_mode"] = search_mode
        if semantic_weight is not None:
            body["semantic_weight"] = semantic_weight
        if query is not None:
            body["query"] = query
        if filters:
            body["filters"] = filters
        if sort:
            body["sort"] = sort
        if format:
            body["format"] = format
        return self._call(Call("POST", f"/search/{collection}", as_model(m.SearchResponse), json=body))

    def search_get(self, collection: str, q: str, *, limit: int = 20, offset: int = 0) -> m.SearchResponse:
        """GET /search/{collection}?q=...: a query without filters."""
        return self._call(
            Call(
                "GET",
                f"/search/{collection}",
                as_model(m.SearchResponse),
                params={"q": q, "limit": limit, "offset": offset},
            )
        )

    # -------------------------------------------------------------- ingestion

    def ingest_file(
        self,
        collection: str,
        file: FileSource,
        *,
        entity_type: str | None = None,
        source_name: str | None = None,
        record_tag: str | None = None,
        name_column: str | None = None,
        filename: str | None = None,
        content_type: str | None = None,
        key_column: str | None = None,
        deleted_column: str | None = None,
        mode: str | None = None,
    ) -> m.IngestionResult:
        """POST /ingest/{collection}/file: a CSV, JSON, NDJSON, XML or PDF file (path, bytes or file).

        `key_column` (e.g. "part_number", or "a,b" for a composite key) makes the collection keyed:
        a row whose key exists updates that record in place, unchanged rows are skipped, and the
        collection remembers the key (another one is a 409). `deleted_column` archives the records
        of rows it marks; `mode="mirror"` archives every record whose key the file lacks. Without a
        key, rows are deduplicated by content hash only."""
        params = {
            "entity_type": entity_type,
            "source_name": source_name,
            "record_tag": record_tag,
            "name_column": name_column,
            "key_column": key_column,
            "deleted_column": deleted_column,
            "mode": mode,
        }
        return self._call(
            Call(
                "POST",
                f"/ingest/{collection}/file",
                as_model(m.IngestionResult),
                params=params,
                upload=_file(file, filename, content_type),
            )
        )

    def ingest_records(
        self,
        collection: str,
        records: list[dict[str, Any]],
        *,
        entity_type: str | None = None,
        source_name: str | None = None,
        name_column: str | None = None,
        key_column: str | None = None,
        deleted_column: str | None = None,
        mode: str | None = None,
    ) -> m.IngestionResult:
        """POST /ingest/{collection}: a JSON list of records (`key_column`, `deleted_column` and
        `mode` as for `ingest_file`)."""
        params = {
            "entity_type": entity_type,
            "source_name": source_name,
            "name_column": name_column,
            "key_column": key_column,
            "deleted_column": deleted_column,
            "mode": mode,
        }
        return self._call(
            Call("POST", f"/ingest/{collection}", as_model(m.IngestionResult), params=params, json=records)
        )

    # -------------------------------------------------------------- connectors

    def create_connector(
        self,
        name: str,
        connector_type: str,
        vertical: str,
        entity_type: str,
        connection_config: dict[str, Any],
        query: str,
        *,
        name_column: str | None = None,
        batch_size: int | None = None,
        key_column: str | None = None,
        deleted_column: str | None = None,
        mode: str | None = None,
        **extra: Any,
    ) -> m.Connector:
        """POST /connectors: register a pull connector; credentials are stored encrypted.

        `key_column` (the source's primary key, say) makes pulls update changed rows in place
        instead of adding a second copy; `deleted_column` names a soft-delete column whose truthy
        rows archive their record; `mode="mirror"` makes a full pull archive the records the source
        no longer returns. Without a key, rows are deduplicated by content hash only."""
        body = {
            "name": name,
            "connector_type": connector_type,
            "vertical": vertical,
            "entity_type": entity_type,
            "connection_config": connection_config,
            "query": query,
            "name_column": name_column,
            "batch_size": batch_size,
            "key_column": key_column,
            "deleted_column": deleted_column,
            "mode": mode,
            **extra,
        }
        body = {k: v for k, v in body.items() if v is not None}
        return self._call(Call("POST", "/connectors", as_model(m.Connector), json=body))

    def list_connectors(self) -> list[m.Connector]:
        """GET /connectors."""
        return self._call(Call("GET", "/connectors", as_models(m.Connector, "connectors")))

    def pull_connector(self, connector_id: str, *, wait: bool = True, timeout: float | None = None) -> m.PullResult:
        """POST /connectors/{id}/pull: pull and ingest now.

        With `wait` the server waits up to `timeout` seconds (its default, 30, when None) for the
        run and answers the result, or `status: "queued"/"running"` with `request_id` to poll if
        it has not finished; the HTTP timeout is longer than that wait. `wait=False` answers at
        once with the queued request."""
        params: dict[str, Any] = {"wait": "true" if wait else "false"}
        if wait and timeout is not None:
            params["timeout"] = timeout
        server_wait = (PULL_WAIT_S if timeout is None else timeout) if wait else 0.0
        return self._call(
            Call("POST", f"/connectors/{connector_id}/pull", as_model(m.PullResult), params=params,
                 ok_statuses=frozenset({202}), timeout=server_wait + PULL_HTTP_MARGIN_S, retry=False)
        )

    def delete_connector(self, connector_id: str) -> None:
        """DELETE /connectors/{id}: the connector and its credentials."""
        return self._call(Call("DELETE", f"/connectors/{connector_id}", as_none))

    # -------------------------------------------------------------- blue-green replace

    def replace(
        self,
        collection: str,
        file: FileSource,
        *,
        entity_type: str,
        source_name: str | None = None,
        record_tag: str | None = None,
        filename: str | None = None,
        content_type: str | None = None,
        key_column: str | None = None,
    ) -> m.IngestionResult:
        """POST /portal/verticals/{name}/replace: upload a whole new dataset into a staging generation
        (keyed by the collection's key or `key_column`: replace-status and the swap then report
        `record_changes`)."""
        params = {
            "entity_type": entity_type,
            "source_name": source_name,
            "record_tag": record_tag,
            "key_column": key_column,
        }
        return self._call(
            Call(
                "POST",
                f"/portal/verticals/{collection}/replace",
                as_model(m.IngestionResult),
                params=params,
                upload=_file(file, filename, content_type),
            )
        )

    def replace_status(self, collection: str) -> m.ReplaceStatus:
        """GET /portal/verticals/{name}/replace-status."""
        return self._call(
            Call("GET", f"/portal/verticals/{collection}/replace-status", as_model(m.ReplaceStatus))
        )

    def swap(self, collection: str) -> m.SwapResult:
        """POST /portal/verticals/{name}/swap: promote the staging generation atomically."""
        return self._call(Call("POST", f"/portal/verticals/{collection}/swap", as_model(m.SwapResult)))

    def cancel_replace(self, collection: str) -> m.CancelReplaceResult:
        """POST /portal/verticals/{name}/cancel-replace: drop the staging generation."""
        return self._call(
            Call("POST", f"/portal/verticals/{collection}/cancel-replace", as_model(m.CancelReplaceResult))
        )

    # -------------------------------------------------------------- exports (see also export())

    def start_export(self, collection: str, *, format: str = "json", status: str = "active") -> m.ExportJob:
        """POST /export: start an asynchronous export; poll `export_status`, then download."""
        return self._call(start_call(collection, format, status))

    def export_status(self, export_id: str) -> m.ExportStatus:
        """GET /export/{id}/status: `processing`, `completed`, `failed` (with `error`) or `expired`."""
        return self._call(status_call(export_id))

    def active_exports(self) -> list[m.ExportInfo]:
        """GET /export/active: this tenant's exports still processing."""
        return self._call(Call("GET", "/export/active", as_models(m.ExportInfo, "exports")))

    def download_export(
        self, export_id: str, to: Destination = None, *, progress: bool = False, rows: int | None = None
    ) -> m.ExportDownload:
        """Stream a completed export to `to` (path, directory, binary file, or None for the working
        directory). ConflictError while it is still processing."""
        return self._download(export_id, to, progress=progress, rows=rows)

    def export(
        self,
        collection: str,
        *,
        format: str = "csv",
        status: str = "active",
        to: Destination = None,
        progress: bool = False,
        poll_interval: float = 1.0,
        timeout: float | None = 3600.0,
    ) -> m.ExportDownload:
        """Start an export, wait for it, and stream the file to `to`, in one call.

        Raises ExportFailedError (with the server's reason) if the export fails or expires, and
        KarizTimeoutError if it is still processing after `timeout` seconds (counted from when the
        export starts: for the async client, when it is awaited).
        """
        return self._export(
            lambda: ExportFlow(
                collection,
                format=format,
                status=status,
                to=to,
                progress=progress,
                poll_interval=poll_interval,
                timeout=timeout,
            )
        )

    # -------------------------------------------------------------- streams (Server-Sent Events)

    def estimate(self, images: Iterable[ImageSource], *, tenant_id: str | None = None, notes: str | None = None,
                 keep_images: bool = False) -> Iterator[EstimateEvent]:
        """POST /estimator/analyze: the estimate's events as they arrive (`start`, `image` per photo,
        `item` per distinct item, `summary`, `done`). Photos are bytes, file paths or data URLs;
        `tenant_id` defaults to the caller's own. A refused request raises before any event."""
        return self._events(
            ANALYZE_PATH, tenant_id, lambda tenant: analyze_body(images, tenant, notes=notes, keep_images=keep_images),
            lambda raw: raw,
        )

    def chat(self, message: str, *, tenant_id: str | None = None, account_id: str | None = None,
             files: list[str] | None = None, prompt: str | None = None,
             chat_id: str | None = None) -> Iterator[ChatEvent]:
        """POST /chat: the grounded answer's typed events as they arrive (`ChatStart`, `ChatSources`,
        `ChatDelta`..., `ChatCitation`, `ChatToolCall`/`ChatToolResult`, `ChatError`, `ChatDone`).
        `tenant_id` defaults to the caller's own; `chat_id` continues a conversation. A refused
        request (bad input, quota) raises before any event."""
        return self._events(
            CHAT_PATH,
            tenant_id,
            lambda tenant: chat_body(message, tenant, account_id=account_id, files=files, prompt=prompt,
                                     chat_id=chat_id),
            lambda raw: to_chat_event(raw.event, raw.data),
        )

    # -------------------------------------------------------------- admin

    def stats(self) -> m.SystemStats:
        """GET /admin/stats."""
        return self._call(Call("GET", "/admin/stats", as_model(m.SystemStats)))

    def admin_tenants(self) -> list[m.TenantSummary]:
        """GET /admin/tenants: tenants with record counts and collections."""
        return self._call(Call("GET", "/admin/tenants", as_models(m.TenantSummary, "tenants")))

    def reindex_collection(self, collection: str) -> m.ReindexResult:
        """POST /admin/reindex/{collection}."""
        return self._call(Call("POST", f"/admin/reindex/{collection}", as_model(m.ReindexResult)))

    def reindex_record(self, record_id: str) -> m.RecordReindexResult:
        """POST /admin/reindex/record/{id}."""
        return self._call(Call("POST", f"/admin/reindex/record/{record_id}", as_model(m.RecordReindexResult)))

    # -------------------------------------------------------------- health

    def health(self) -> m.Health:
        """GET /health: liveness."""
        return self._call(Call("GET", "/health", as_model(m.Health)))

    def ready(self) -> m.Readiness:
        """GET /health/ready: readiness; a 503 comes back as `ready=False`, not as an exception."""

        def parse(response: Any) -> m.Readiness:
            body = as_json(response)
            data = body if isinstance(body, dict) else {"checks": body}
            return m.Readiness.model_validate({**data, "ready": response.status_code < 400})

        return self._call(Call("GET", "/health/ready", parse, ok_statuses=frozenset({503}), retry=False))

    def search_health(self) -> dict[str, Any]:
        """GET /health/search: latency percentiles, zero-result rate, fallback count."""
        return self._call(Call("GET", "/health/search", as_json))

    # -------------------------------------------------------------- tenants and API keys

    def register(self, name: str, email: str) -> m.Registration:
        """POST /register: a new tenant and its first API key (shown once)."""
        return self._call(
            Call("POST", "/register", as_model(m.Registration), json={"name": name, "email": email})
        )

    def get_estimate(self, estimate_id: str) -> dict[str, Any]:
        """GET /estimator/estimates/{id}: a stored estimate (images, items, summary)."""
        return self._call(Call("GET", f"/estimator/estimates/{estimate_id}", as_json))

    def list_estimates(self, *, limit: int = 20, offset: int = 0) -> dict[str, Any]:
        """GET /estimator/estimates: `{estimates, total, limit, offset}`, newest first."""
        return self._call(Call("GET", "/estimator/estimates", as_json, params={"limit": limit, "offset": offset}))

    def chat_history(self, *, account_id: str | None = None, limit: int = 20, offset: int = 0) -> dict[str, Any]:
        """GET /chat/history: `{data: [chats, newest activity first], pagination}`."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if account_id is not None:
            params["accountId"] = account_id
        return self._call(Call("GET", "/chat/history", lambda response: response.json(), params=params))

    def get_chat(self, chat_id: str) -> dict[str, Any]:
        """GET /chat/history/{chatId}: the chat with its messages."""
        return self._call(Call("GET", f"/chat/history/{chat_id}", as_json))

    def delete_chat(self, chat_id: str) -> dict[str, Any]:
        """DELETE /chat/history/{chatId}: `{chatId, deleted: true}`."""
        return self._call(Call("DELETE", f"/chat/history/{chat_id}", as_json))

    def tenant(self) -> m.Tenant:
        """GET /tenants: the caller's own tenant."""
        return self._call(Call("GET", "/tenants", as_model(m.Tenant)))

    def get_tenant(self, tenant_id: str) -> m.Tenant:
        """GET /tenants/{id}."""
        return self._call(Call("GET", f"/tenants/{tenant_id}", as_model(m.Tenant)))

    def create_tenant(self, name: str, email: str | None = None) -> m.CreatedTenant:
        """POST /tenants (operators): a tenant with an admin key, shown once."""
        body = {"name": name, **({"email": email} if email else {})}
        return self._call(Call("POST", "/tenants", as_model(m.CreatedTenant), json=body))

    def list_api_keys(self, tenant_id: str) -> list[m.ApiKeyInfo]:
        """GET /tenants/{id}/api-keys: metadata only, never secrets."""
        return self._call(Call("GET", f"/tenants/{tenant_id}/api-keys", as_models(m.ApiKeyInfo)))

    def create_api_key(
        self,
        tenant_id: str,
        name: str,
        scopes: list[str] | None = None,
        *,
        expires_at: datetime | None = None,
    ) -> m.CreatedApiKey:
        """POST /tenants/{id}/api-keys: the secret is in the result's `api_key`, this once."""
        body: dict[str, Any] = {"name": name}
        if scopes is not None:
            body["scopes"] = scopes
        if expires_at is not None:
            body["expires_at"] = expires_at.isoformat()
        return self._call(
            Call("POST", f"/tenants/{tenant_id}/api-keys", as_model(m.CreatedApiKey), json=body)
        )

    def revoke_api_key(self, tenant_id: str, key_id: str) -> m.ApiKeyInfo:
        """DELETE /tenants/{id}/api-keys/{key_id}: the key stops working at once."""
        return self._call(Call("DELETE", f"/tenants/{tenant_id}/api-keys/{key_id}", as_model(m.ApiKeyInfo)))
