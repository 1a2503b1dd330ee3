from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from bson import Decimal128, ObjectId
from pymongo import MongoClient

from connectors.errors import SourceAuthFailed, SourceLost, SourceQueryInvalid, SourceUnreachable
from tests.integration.connectors.peers import SecantusServer, build_peer, free_port

pytestmark = [pytest.mark.integration, pytest.mark.mongodb]

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
OID = ObjectId("65a1b2c3d4e5f60718293a4b")


def _config(server: SecantusServer, collection: str) -> dict[str, str]:
    return {"uri": server.uri, "database": "shop", "collection": collection}


@pytest.fixture(scope="module")
def products(mongo_server: SecantusServer) -> dict[str, str]:
    collection = f"products_{uuid.uuid4().hex[:6]}"
    with MongoClient(mongo_server.uri, uuidRepresentation="standard") as client:
        client.shop[collection].insert_many(
            [
                {
                    "_id": i,
                    "name": f"product {i}",
                    "ref": OID,
                    "price": Decimal128(Decimal(i) * Decimal("1.25")),
                    "tags": ["a", {"nested": Decimal128("2")}],
                    "uid": uuid.UUID(int=i),
                    "updated_at": T0 + dt.timedelta(hours=i),
                }
                for i in range(1, 26)
            ]
        )
    return _config(mongo_server, collection)


def test_check_reports_the_server(products: dict[str, str]) -> None:
    assert build_peer("mongodb", products).check().ok


def test_documents_stream_in_batches_with_json_safe_values(products: dict[str, str]) -> None:
    source = build_peer("mongodb", products)
    batches = list(source.stream("{}", batch_size=10))
    assert [len(b) for b in batches] == [10, 10, 5]
    first = min((r for b in batches for r in b), key=lambda r: r["_id"])
    assert first == {
        "_id": 1,
        "name": "product 1",
        "ref": str(OID),
        "price": 1.25,
        "tags": ["a", {"nested": 2}],
        "uid": str(uuid.UUID(int=1)),
        "updated_at": "2024-01-01T01:00:00+00:00",
    }
    json.dumps(batches, allow_nan=False)


def test_last_pull_in_the_filter_binds_the_watermark(products: dict[str, str]) -> None:
    source = build_peer("mongodb", products)
    query = '{"updated_at": {"$gt": ":last_pull"}}'
    assert sum(len(b) for b in source.stream(query, last_pull=None)) == 25
    later = source.stream(query, last_pull=T0 + dt.timedelta(hours=20))
    assert sorted(r["_id"] for b in later for r in b) == [21, 22, 23, 24, 25]


def test_projection_and_sort(products: dict[str, str]) -> None:
    query = '{"filter": {"_id": {"$lte": 3}}, "projection": {"_id": 0, "name": 1}, "sort": {"_id": -1}}'
    rows = [r for b in build_peer("mongodb", products).stream(query) for r in b]
    assert rows == [{"name": "product 3"}, {"name": "product 2"}, {"name": "product 1"}]


def test_wrong_credentials_fail_without_leaking_the_password(mongo_server: SecantusServer) -> None:
    uri = f"mongodb://nobody:s3cret-pw@127.0.0.1:{mongo_server.port}/?directConnection=true"
    source = build_peer("mongodb", {"uri": uri, "database": "shop", "collection": "x"})
    result = source.check()
    assert not result.ok and isinstance(result.error, SourceAuthFailed)
    with pytest.raises(SourceAuthFailed) as err:
        list(source.stream("{}"))
    assert "s3cret-pw" not in str(err.value) and "s3cret-pw" not in result.message


def test_unreachable_host() -> None:
    uri = f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"
    source = build_peer(
        "mongodb", {"uri": uri, "database": "d", "collection": "c", "connect_timeout": 1}
    )
    with pytest.raises(SourceUnreachable):
        list(source.stream("{}"))


def test_malformed_filters_are_query_errors(products: dict[str, str]) -> None:
    source = build_peer("mongodb", products)
    with pytest.raises(SourceQueryInvalid):
        source.stream('{"name": ')
    with pytest.raises(SourceQueryInvalid, match="unknown operator"):
        list(source.stream('{"price": {"$bogus": 1}}'))


def test_source_going_away_mid_stream_raises_lost(doomed_mongo_server: SecantusServer) -> None:
    total = 3000
    with MongoClient(doomed_mongo_server.uri) as client:
        client.shop.many.insert_many([{"_id": i, "pad": "x" * 100} for i in range(total)])
    config = _config(doomed_mongo_server, "many") | {"connect_timeout": 2}
    stream = build_peer("mongodb", config).stream("{}", batch_size=100)
    received = len(next(stream))
    doomed_mongo_server.stop()
    with pytest.raises(SourceLost):
        for batch in stream:
            received += len(batch)
    assert received < total
