"""Both FileStore backends: the folder, and an S3-compatible bucket through minio against moto's
S3 server (a real HTTP S3 API on loopback; no other S3 server can run here)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import InvalidInput, NotFound
from core.files.base import FileStore, new_storage_key
from core.files.local import LocalFileStore
from core.files.s3 import S3FileStore


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"s3://testing:testing-secret@127.0.0.1:{port}/kariz-files?secure=false&region=us-east-1"
    finally:
        server.stop()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> FileStore:
    if request.param == "local":
        return LocalFileStore(tmp_path / "files")
    return S3FileStore(request.getfixturevalue("s3_url"))


def test_bytes_round_trip_and_delete(store: FileStore) -> None:
    key = new_storage_key(uuid.uuid4())
    assert not store.exists(key)
    store.put(key, b"%PDF-1.4 some bytes")
    assert store.exists(key)
    assert store.get(key) == b"%PDF-1.4 some bytes"
    store.put(key, b"replaced")
    assert store.get(key) == b"replaced"
    assert store.delete(key) is True
    assert store.delete(key) is False
    with pytest.raises(NotFound):
        store.get(key)


def test_keys_not_made_by_the_store_are_refused(store: FileStore) -> None:
    for key in ["../../etc/passwd", "a/b", "/abs/path", new_storage_key(uuid.uuid4()) + "/.."]:
        with pytest.raises(InvalidInput):
            store.get(key)
        with pytest.raises(InvalidInput):
            store.put(key, b"x")


def test_local_writes_leave_no_partial_file(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "files")
    key = new_storage_key(uuid.uuid4())
    store.put(key, b"a" * 1000)
    leftovers = [p.name for p in (tmp_path / "files").rglob(".part-*")]
    assert leftovers == []
    assert (tmp_path / "files" / key).read_bytes() == b"a" * 1000
