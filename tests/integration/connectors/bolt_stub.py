"""Scripted Bolt sessions with boltkit's `boltstub`, usable by the neo4j 6 driver.

boltkit (test-only, `pip install --no-deps boltkit`) scripts Bolt versions 1-4.0; the neo4j 6 driver
still offers Bolt 3 in its handshake, so scripts start with `!: BOLT 3`. Two small additions make
boltkit useful for today's types:
- script lines may hold a PackStream structure as `{"$struct": "F", "fields": [...]}` (e.g. the
  DateTime the driver sends for `$last_pull`, or Node structures in RECORDs);
- boltkit's message logging learns to print structures instead of crashing on them.
Each server runs in a thread of the test process (the `boltstub` command busy-waits a core).
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import boltkit.server as boltstub
from boltkit.packstream import Structure

from tests.integration.connectors.peers import free_port

SCRIPTS = Path(__file__).parent / "scripts"


def _to_json(value: Any) -> Any:
    if isinstance(value, Structure):
        return {"$struct": chr(value.tag), "fields": list(value.fields)}
    raise TypeError(type(value).__name__)


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$struct", "fields"}:
            return Structure(ord(value["$struct"]), *(_from_json(v) for v in value["fields"]))
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


boltstub.json_dumps = partial(json.dumps, default=_to_json)


class StructScript(boltstub.Script):
    """A boltkit script whose JSON may spell PackStream structures."""

    def parse_message(self, message: str) -> Structure:
        parsed = super().parse_message(message)
        return Structure(parsed.tag, *(_from_json(f) for f in parsed.fields))


class ScriptedBolt:
    """A boltstub server playing `scripts/<name>.script` once on a free port (`uri`)."""

    def __init__(self, name: str, *, timeout: float = 10.0) -> None:
        self.port = free_port()
        self.server = boltstub.StubServer(("127.0.0.1", self.port), timeout=timeout)
        self.server.script = StructScript(str(SCRIPTS / f"{name}.script"))
        self.uri = f"bolt://127.0.0.1:{self.port}"

    def __enter__(self) -> ScriptedBolt:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        self.server.join(5)

    def finish(self) -> bool:
        """Wait for the session to end; True if the whole script was played and nothing went off-script."""
        self.server.join(10)
        return self.server.exit_code == 0 and not self.server.script
