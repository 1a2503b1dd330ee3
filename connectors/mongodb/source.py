"""Pull documents from MongoDB with pymongo: a `find` cursor read `batch_size` documents per round trip."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import Any

import bson
from bson import json_util
from pymongo import MongoClient
from pymongo.cursor import Cursor
from pymongo.errors import (
    ConnectionFailure,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from connectors.base import DEFAULT_BATCH_SIZE, Batch, as_watermark, check_batch_size
from connectors.client_source import ClientSource
from connectors.errors import (
    SourceAuthFailed,
    SourceError,
    SourceLost,
    SourceQueryInvalid,
    SourceUnreachable,
)
from connectors.mongodb import config as config_rules
from connectors.mongodb.config import LAST_PULL, parse_query
from connectors.values import ValueConverter

APP_NAME = "kariz-connector"
AUTH_CODES = frozenset({13, 18})  # Unauthorized, AuthenticationFailed
QUERY_CODES = frozenset({2, 9, 17287, 31249, 31253, 31254})  # BadValue, FailedToParse, projection errors


def _decimal128(value: bson.Decimal128, conv: ValueConverter) -> Any:
    return conv.convert(value.to_decimal())


def _string(value: Any, _: ValueConverter) -> str:
    return str(value)


def _regex(value: bson.Regex, _: ValueConverter) -> str:
    return f"/{value.pattern}/{value.flags or ''}"


def _timestamp(value: bson.Timestamp, _: ValueConverter) -> str:
    return value.as_datetime().isoformat()


def _dbref(value: bson.DBRef, conv: ValueConverter) -> dict[str, Any]:
    return {"$ref": value.collection, "$id": conv.convert(value.id)}


BSON_CONVERTERS = {
    bson.ObjectId: _string,
    bson.Decimal128: _decimal128,
    bson.Regex: _regex,
    bson.Timestamp: _timestamp,
    bson.DBRef: _dbref,
    bson.Code: _string,
    bson.MinKey: lambda _v, _c: "MinKey",
    bson.MaxKey: lambda _v, _c: "MaxKey",
    bson.Int64: lambda v, _c: int(v),
}


def bind_last_pull(value: Any, watermark: dt.datetime) -> Any:
    """`value` with every string equal to `":last_pull"` replaced by `watermark`, at any depth."""
    if isinstance(value, str):
        return watermark if value == LAST_PULL else value
    if isinstance(value, dict):
        return {k: bind_last_pull(v, watermark) for k, v in value.items()}
    if isinstance(value, list):
        return [bind_last_pull(v, watermark) for v in value]
    return value


class MongoDBSource(ClientSource):
    """One MongoDB collection reached through a connection URI."""

    kind = "mongodb"
    rules = config_rules
    converters = BSON_CONVERTERS
    driver_errors = (PyMongoError,)

    def _open(self) -> MongoClient:
        timeout_ms = int(self.config.connect_timeout * 1000)
        keep_names = self.config.verifies_server_name
        pairs = self.pinned_endpoints(keep_names=keep_names)
        sockets = any(h.startswith("/") for h, _ in pairs)
        uri = self.config.uri if keep_names or sockets else self.config.uri_for(pairs)
        options: dict[str, Any] = {}
        if len(pairs) == 1 and "replicaset" not in self.config.options():
            # one seed: talk to it alone, never to the members its answer names (not checked)
            options["directConnection"] = True
        try:
            return MongoClient(
                uri,
                **options,
                appname=APP_NAME,
                tz_aware=True,
                connect=False,
                serverSelectionTimeoutMS=timeout_ms,
                connectTimeoutMS=timeout_ms,
                maxPoolSize=1,
                uuidRepresentation="standard",
            )
        except PyMongoError as exc:  # a malformed URI or options
            raise self.error(SourceUnreachable, f"cannot connect: {exc}") from None

    def _error(self, exc: BaseException, *, started: bool) -> SourceError:
        if isinstance(exc, OperationFailure):
            detail = f"{exc.details.get('errmsg') if exc.details else exc} (code {exc.code})"
            if exc.code in AUTH_CODES:
                return self.error(SourceAuthFailed, f"login refused: {detail}")
            if exc.code in QUERY_CODES:
                return self.error(SourceQueryInvalid, f"the query cannot run: {detail}")
            return self.error(SourceError, f"the query failed: {detail}")
        if isinstance(exc, ConnectionFailure):
            if started:
                return self.error(SourceLost, f"the connection broke: {type(exc).__name__}")
            if isinstance(exc, ServerSelectionTimeoutError):
                return self.error(SourceUnreachable, "no server answered within the connect timeout")
            return self.error(SourceUnreachable, f"cannot connect: {type(exc).__name__}")
        return self.error(SourceError, f"the query failed: {type(exc).__name__} {exc}")

    def _server_version(self, client: MongoClient) -> str:
        info = client.server_info()
        client[self.config.database].command("ping")
        return str(info.get("version"))

    def stream(
        self, query: str, *, last_pull: dt.datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[Batch]:
        parsed = parse_query(query)
        try:  # decode extended JSON ({"$date": ...}, {"$oid": ...}) now that bson is loaded
            filt = json_util.loads(json_util.dumps(parsed.filter))
            projection = json_util.loads(json_util.dumps(parsed.projection)) if parsed.projection else None
        except (ValueError, TypeError) as exc:
            raise self.error(SourceQueryInvalid, f"bad extended JSON in the query: {exc}") from None
        filt = bind_last_pull(filt, as_watermark(last_pull))
        batch_size = check_batch_size(batch_size)

        def documents(client: MongoClient, _answered: Callable[[], None]) -> nullcontext[Cursor]:
            collection = client[self.config.database][self.config.collection]
            return nullcontext(collection.find(filt, projection, batch_size=batch_size, sort=parsed.sort))

        return self._pull(documents, batch_size)
