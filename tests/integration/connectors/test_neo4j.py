"""Neo4j pulls against boltkit-scripted Bolt sessions (and a real server when NEO4J_TEST_URI is set).

Each script is the exact conversation a real server would have with the neo4j 6 driver (Bolt 3):
`finish()` asserts the whole script was played, so the read-mode BEGIN and the `$last_pull`
DateTime parameter are checked byte for byte, not just the rows that come back.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from connectors.errors import (
    SourceAuthFailed,
    SourceLost,
    SourceQueryInvalid,
    SourceUnreachable,
    SourceWriteRefused,
)
from tests.integration.connectors.bolt_stub import ScriptedBolt
from tests.integration.connectors.peers import build_peer, free_port

pytestmark = [pytest.mark.integration, pytest.mark.neo4j]

PRODUCTS = (
    "MATCH (p:Product) WHERE p.updated_at > $last_pull "
    "RETURN p.name AS name, p AS node, p.updated_at AS updated_at"
)


def _source(stub: ScriptedBolt, password: str = "pw"):
    return build_peer("neo4j", {"uri": stub.uri, "user": "neo4j", "password": password})


def test_records_stream_in_batches_with_nodes_and_temporals_converted() -> None:
    with ScriptedBolt("pull_batches") as stub:
        batches = list(_source(stub).stream(PRODUCTS, last_pull=None, batch_size=2))
        assert stub.finish()  # read transaction, epoch bound as a DateTime, committed
    assert [len(b) for b in batches] == [2, 1]
    assert batches[0][0] == {
        "name": "bolt",
        "node": {"element_id": "1", "labels": ["Product"], "properties": {"name": "bolt", "price": 0.5}},
        "updated_at": "2024-01-01T00:00:00.000000000+01:00",
    }
    assert batches[0][1]["node"]["labels"] == ["Part", "Product"]
    assert batches[0][1]["updated_at"] == "2024-01-01"
    json.dumps(batches)


def test_last_pull_is_sent_as_a_datetime_parameter() -> None:
    query = "MATCH (p:Product) WHERE p.updated_at > $last_pull RETURN p.name AS name"
    with ScriptedBolt("incremental") as stub:
        rows = [
            r
            for b in _source(stub).stream(query, last_pull=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
            for r in b
        ]
        assert stub.finish()
    assert rows == [{"name": "nut"}]


def test_wrong_credentials_fail_without_leaking_the_password() -> None:
    with ScriptedBolt("auth_failure") as stub:
        with pytest.raises(SourceAuthFailed) as err:
            list(_source(stub, password="s3cret-wrong").stream("RETURN 1"))
        assert stub.finish()
    assert "s3cret-wrong" not in str(err.value)


def test_unreachable_host() -> None:
    source = build_peer(
        "neo4j",
        {"uri": f"bolt://127.0.0.1:{free_port()}", "user": "neo4j", "password": "pw", "connect_timeout": 2},
    )
    assert not source.check().ok
    with pytest.raises(SourceUnreachable):
        list(source.stream("RETURN 1"))


def test_syntax_error_is_a_query_error() -> None:
    with ScriptedBolt("syntax_error") as stub:
        with pytest.raises(SourceQueryInvalid, match="Invalid input"):
            list(_source(stub).stream("MATCH (p RETURN p"))
        assert stub.finish()


def test_writes_are_refused_by_the_read_session() -> None:
    with ScriptedBolt("write_refused") as stub:
        with pytest.raises(SourceWriteRefused):
            list(_source(stub).stream("CREATE (p:Product {name: 'x'}) RETURN p"))
        assert stub.finish()


def test_source_going_away_mid_stream_raises_lost() -> None:
    with ScriptedBolt("connection_lost") as stub:
        received = []
        with pytest.raises(SourceLost):
            for batch in _source(stub).stream("UNWIND range(1, 1000000) AS n RETURN n", batch_size=1):
                received.extend(batch)
    assert received == [{"n": 1}, {"n": 2}, {"n": 3}]


@pytest.mark.skipif(not os.environ.get("NEO4J_TEST_URI"), reason="NEO4J_TEST_URI is not set")
def test_real_neo4j_server() -> None:
    config = {
        "uri": os.environ["NEO4J_TEST_URI"],
        "user": os.environ.get("NEO4J_TEST_USER", "neo4j"),
        "password": os.environ.get("NEO4J_TEST_PASSWORD", "neo4j"),
        "database": os.environ.get("NEO4J_TEST_DATABASE") or None,
    }
    source = build_peer("neo4j", config)
    assert source.check().ok
    query = (
        "UNWIND range(1, 25) AS i WITH i WHERE datetime() > $last_pull "
        "RETURN i, date('2024-01-01') + duration({days: i}) AS day, {i: i, at: datetime($last_pull)} AS m"
    )
    batches = list(source.stream(query, batch_size=10))
    assert [len(b) for b in batches] == [10, 10, 5]
    assert batches[0][0]["day"] == "2024-01-02" and batches[0][0]["m"]["at"].startswith("1970-01-01T00:00:00")
    with pytest.raises(SourceWriteRefused):
        list(source.stream("CREATE (n:KarizConnectorProbe) RETURN n"))
    with pytest.raises(SourceQueryInvalid):
        list(source.stream("MATCH (n RETURN n"))
