"""The SDK's shared decisions: errors from bodies, retries, envelopes, uploads and the export flow."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

import kariz
from kariz.sdk.errors import error_for
from kariz.sdk.export_flow import ExportFlow, filename_from, open_destination
from kariz.sdk.models import ExportJob, ExportStatus, Registration, SearchResponse
from kariz.sdk.retry_after import parse_retry_after
from kariz.sdk.transport import Call, RetryPolicy, Upload, api_base, as_model, as_models

CONTRACT_BODY = {
    "detail": "no such collection",
    "success": False,
    "error": {"code": "NOT_FOUND", "message": "gone"},
}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, kariz.ValidationError),
        (401, kariz.AuthenticationError),
        (402, kariz.QuotaExceededError),
        (403, kariz.PermissionDenied),
        (404, kariz.NotFoundError),
        (409, kariz.ConflictError),
        (413, kariz.PayloadTooLargeError),
        (422, kariz.ValidationError),
        (429, kariz.RateLimitError),
        (500, kariz.ServerError),
        (503, kariz.ServerError),
        (418, kariz.APIError),
    ],
)
def test_each_status_maps_to_its_exception(status: int, cls: type[kariz.APIError]) -> None:
    error = error_for(status, CONTRACT_BODY, {})
    assert type(error) is cls and isinstance(error, kariz.KarizError)
    assert (error.status, error.code, error.message) == (status, "NOT_FOUND", "gone")


def test_error_messages_come_from_whichever_body_shape_the_server_used() -> None:
    assert (
        error_for(409, {"detail": "Replace already in progress"}, {}).message == "Replace already in progress"
    )
    assert (
        error_for(
            401, {"success": False, "error": {"code": "UNAUTHORIZED", "message": "Invalid key"}}, {}
        ).code
        == "UNAUTHORIZED"
    )
    assert error_for(502, None, {}, "<html>bad gateway</html>").message == "<html>bad gateway</html>"
    assert error_for(500, None, {}).message == "HTTP 500"
    limited = error_for(429, {"detail": "slow down"}, {"retry-after": "7"})
    assert isinstance(limited, kariz.RateLimitError) and limited.retry_after == 7


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3", now) == 3
    assert parse_retry_after("Tue, 01 Jan 2030 12:00:05 GMT", now) == 5
    assert parse_retry_after("Tue, 01 Jan 2030 11:00:00 GMT", now) == 0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None


def _response(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers)


def test_retry_policy_waits_as_told_on_429_and_503_and_gives_up_when_spent() -> None:
    policy = RetryPolicy(retries=2, backoff=1.0, max_backoff=4.0, max_retry_after=60)
    get = Call("GET", "/x", as_model(ExportJob))
    post = Call("POST", "/x", as_model(ExportJob))
    assert policy.after_response(post, 0, _response(429, {"Retry-After": "2"})) == 2
    assert 0.5 <= policy.after_response(get, 1, _response(503)) <= 2.0  # backoff 1 * 2**1, jittered
    assert policy.after_response(get, 2, _response(503)) is None  # retries spent
    assert policy.after_response(get, 0, _response(500)) is None  # not a retryable status
    assert policy.after_response(get, 0, _response(429, {"Retry-After": "600"})) is None  # too long
    ready = Call("GET", "/health/ready", as_model(ExportJob), ok_statuses=frozenset({503}), retry=False)
    assert policy.after_response(ready, 0, _response(503)) is None


def test_transport_errors_are_retried_only_when_repeating_is_safe() -> None:
    policy = RetryPolicy(retries=1)
    get = Call("GET", "/x", as_model(ExportJob))
    post = Call("POST", "/x", as_model(ExportJob))
    assert policy.after_error(post, 0, httpx.ConnectError("refused")) is not None
    assert policy.after_error(post, 0, httpx.ReadError("reset")) is None
    assert policy.after_error(get, 0, httpx.ReadError("reset")) is not None
    assert policy.after_error(get, 1, httpx.ConnectError("refused")) is None


def test_base_url_gets_the_api_prefix_once() -> None:
    assert api_base("http://h:8000") == "http://h:8000/api/v1"
    assert api_base("http://h:8000/api/v1/") == "http://h:8000/api/v1"


def test_results_parse_either_envelope_and_either_naming_style() -> None:
    registered = as_model(Registration)(
        httpx.Response(
            201, json={"success": True, "data": {"apiKey": "sk_live_x", "tenantId": "t1", "scopes": []}}
        )
    )
    assert (registered.api_key, registered.tenant_id) == ("sk_live_x", "t1")
    search = as_model(SearchResponse)(
        httpx.Response(
            200,
            json={
                "results": [
                    {
                        "record_id": "r1",
                        "name": "Bolt",
                        "score": 1.0,
                        "collection_data": {"a": 1},
                        "new_field": 1,
                    }
                ],
                "pagination": {"offset": 0, "limit": 20, "has_more": False},
                "metadata": {"search_mode": "identifier", "timings": {"search_ms": 1.5}},
            },
        )
    )
    assert search.results[0].collection_data == {"a": 1} and search.metadata.timings["search_ms"] == 1.5
    listed = as_models(ExportStatus, "exports")(
        httpx.Response(200, json={"exports": [{"status": "processing"}]})
    )
    assert [s.status for s in listed] == ["processing"]


def test_uploads_reopen_or_rewind_for_each_attempt(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_bytes(b"name\nbolt\n")
    handle = io.BytesIO(b"xxname\nnut\n")
    handle.seek(2)
    for upload in (Upload(path), Upload(handle, filename="nut.csv"), Upload(b"raw", filename="r.json")):
        seen = []
        for _ in range(2):
            with upload.open() as (name, f, _type):
                seen.append((name, f.read()))
        assert seen[0] == seen[1]
    assert seen[0] == ("r.json", b"raw")
    with Upload(path).open() as (name, f, _type):
        assert name == "catalog.csv"


def test_export_flow_polls_faster_first_and_stops_on_completion_or_failure() -> None:
    clock = iter(range(1000)).__next__
    flow = ExportFlow("manufacturing", poll_interval=0.5, timeout=None, clock=lambda: float(clock()))
    call = flow.started(ExportJob(export_id="exp_1", status="processing"))
    assert call.path == "/export/exp_1/status"
    waits = [flow.next_wait(ExportStatus(status="processing", progress=i, total=10)) for i in range(4)]
    assert waits == [0.1, 0.2, 0.4, 0.5]
    assert flow.next_wait(ExportStatus(status="completed", progress=10, total=10)) is None
    assert flow.rows == 10
    with pytest.raises(kariz.ExportFailedError, match="disk full") as failed:
        flow.next_wait(ExportStatus(status="failed", error="disk full"))
    assert failed.value.export_id == "exp_1"


def test_export_flow_gives_up_after_its_timeout() -> None:
    now = [0.0]
    flow = ExportFlow("c", timeout=5, clock=lambda: now[0])
    flow.started(ExportJob(export_id="exp_2", status="processing"))
    assert flow.next_wait(ExportStatus(status="processing")) is not None
    now[0] = 6.0
    with pytest.raises(kariz.KarizTimeoutError):
        flow.next_wait(ExportStatus(status="processing"))


def test_downloads_land_under_the_servers_file_name_only_when_complete(tmp_path: Path) -> None:
    response = httpx.Response(
        200,
        headers={"content-type": "text/csv", "content-disposition": 'attachment; filename="../../evil.csv"'},
    )
    assert filename_from(response.headers, "x") == "evil.csv"
    with open_destination("exp_1", tmp_path, response) as (write, finish):
        write(b"a,b\n")
        assert not (tmp_path / "evil.csv").exists()
        result = finish()
    assert (tmp_path / "evil.csv").read_bytes() == b"a,b\n" and result.bytes == 4
    target = tmp_path / "broken.csv"
    with pytest.raises(RuntimeError), open_destination("exp_1", target, response) as (write, _):
        write(b"half")
        raise RuntimeError("connection dropped")
    assert list(tmp_path.iterdir()) == [tmp_path / "evil.csv"]
    sink = io.BytesIO()
    with open_destination("exp_1", sink, response) as (write, finish):
        write(b"x")
    assert sink.getvalue() == b"x" and finish().path is None


def test_pull_connector_waits_longer_than_the_server_and_can_return_at_once() -> None:
    from api.connectors.schemas import DEFAULT_WAIT_S, wait_seconds

    assert wait_seconds(True, False, None) == DEFAULT_WAIT_S == 30.0  # the server waits 30 s by default
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        queued = request.url.params["wait"] == "false"
        body = {"status": "queued" if queued else "completed", "request_id": "r1", "records_pulled": 3}
        return httpx.Response(202 if queued else 200, json=body)

    transport = httpx.Client(transport=httpx.MockTransport(answer))
    client = kariz.Client("http://kariz.test", "sk_live_x", http_client=transport)
    done = client.pull_connector("c1")
    assert done.status == "completed" and done.records_pulled == 3
    assert "timeout" not in seen[0].url.params
    assert seen[0].extensions["timeout"]["read"] > DEFAULT_WAIT_S  # the server answers before the SDK gives up
    longer = client.pull_connector("c1", timeout=120)
    assert longer.status == "completed" and seen[1].url.params["timeout"] == "120"
    assert seen[1].extensions["timeout"]["read"] > 120
    queued = client.pull_connector("c1", wait=False)
    assert queued.status == "queued" and queued.request_id == "r1"
