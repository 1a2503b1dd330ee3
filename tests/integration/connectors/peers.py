"""Reaching the real source peers of the connector tests: ports, servers, setup SQL (fixtures: conftest.py)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from connectors.base import SourceConnector
from connectors.registry import build_connector
from connectors.targets import TargetPolicy
from tests.conftest import LOOPBACK_PEERS, peer_allow_list

MARIADB_HOST, MARIADB_PORT = "127.0.0.1", 3306
MARIADB_DAEMON = "/usr/sbin/mariadbd"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


_peer_entries: list[str] = list(LOOPBACK_PEERS)


def allow_peer_server(server_url: str) -> None:
    """Add the session's PostgreSQL server to the entries `build_peer` allow-lists."""
    for entry in peer_allow_list(server_url):
        if entry not in _peer_entries:
            _peer_entries.append(entry)


def build_peer(kind: str, config: dict[str, Any]) -> SourceConnector:
    """A connector that may reach the suite's local peers, allow-listed explicitly (loopback
    addresses are refused by default)."""
    return build_connector(kind, config, policy=TargetPolicy.from_entries(_peer_entries))


def unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where these suites must run."""
    if IN_CI:
        pytest.fail(f"CI must run this suite: {reason}")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(host, port):
            return True
        time.sleep(0.1)
    return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_execute(url: str, *statements: str) -> list[tuple[Any, ...]]:
    """Run statements with autocommit; return the last one's rows (if any)."""
    rows: list[tuple[Any, ...]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            cur = conn.execute(statement)
            rows = cur.fetchall() if cur.description else []
    return rows


async def _mysql(database: str | None, statements: tuple[str, ...]) -> list[tuple[Any, ...]]:
    import asyncmy

    conn = await asyncmy.connect(
        host=MARIADB_HOST, port=MARIADB_PORT, user="root", password="", database=database, autocommit=True
    )
    rows: list[tuple[Any, ...]] = []
    try:
        async with conn.cursor() as cur:
            for statement in statements:
                await cur.execute(statement)
                rows = list(await cur.fetchall()) if cur.description else []
    finally:
        conn.close()
    return rows


def mysql_execute(database: str | None, *statements: str) -> list[tuple[Any, ...]]:
    """Run statements as root with autocommit; return the last one's rows (if any)."""
    return asyncio.run(_mysql(database, statements))


def ensure_mariadb() -> None:
    """A MariaDB answering on 127.0.0.1:3306, started with start-stop-daemon if installed but stopped."""
    if port_open(MARIADB_HOST, MARIADB_PORT):
        return
    if not Path(MARIADB_DAEMON).exists():
        unavailable("no MariaDB at 127.0.0.1:3306 and mariadbd is not installed")
    command = ["start-stop-daemon", "--start", "--oknodo", "--background", "--exec", MARIADB_DAEMON]
    if os.geteuid() == 0:
        command += ["--", "--user=mysql"]
    subprocess.run(command, check=False, capture_output=True)
    if not wait_for_port(MARIADB_HOST, MARIADB_PORT):
        unavailable("mariadbd is installed but did not start on 127.0.0.1:3306")


@dataclass(frozen=True)
class MySQLSource:
    database: str
    reader: str
    reader_password: str

    def config(self, **overrides: Any) -> dict[str, Any]:
        base = {
            "host": MARIADB_HOST,
            "port": MARIADB_PORT,
            "user": "root",
            "password": "",
            "database": self.database,
        }
        return {**base, **overrides}

    def reader_config(self) -> dict[str, Any]:
        """The config of the password-protected, SELECT-only reader account."""
        return self.config(user=self.reader, password=self.reader_password)

    async def execute(self, *statements: str) -> list[tuple[Any, ...]]:
        """`mysql_execute` in this database, off the event loop."""
        return await asyncio.to_thread(mysql_execute, self.database, *statements)


class SecantusServer:
    """A `secantusd-py` (MongoDB wire protocol) process on a free port with its storage in `path`."""

    def __init__(self, path: Path) -> None:
        executable = shutil.which("secantusd-py", path=str(Path(sys.executable).parent)) or shutil.which(
            "secantusd-py"
        )
        if executable is None:
            unavailable("secantusd-py is not installed (pip install -e '.[dev]')")
        self.port = free_port()
        self.process = subprocess.Popen(
            [executable, "--host", "127.0.0.1", "--port", str(self.port), "--storage-path", str(path)]
            + ["--log-level", "ERROR", "--standalone"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for_port("127.0.0.1", self.port):
            self.stop()
            unavailable("secantusd-py did not start")
        self.uri = f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
