"""The one interface every source kind implements.

A connector is built from its decrypted connection config (validated on construction, before any
network I/O), can `check()` that the source answers, and `stream()`s a query's rows as batches of
JSON-safe dicts. It opens a connection only for the duration of a check or a stream and always
closes it, also when the caller stops iterating early.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from connectors.errors import (
    ConnectorConfigInvalid,
    SourceError,
    SourceTargetForbidden,
    SourceUnreachable,
    scrub,
)
from connectors.targets import STRICT, Endpoint, TargetPolicy
from connectors.values import ValueConverter

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
DEFAULT_BATCH_SIZE = 5000
DEFAULT_CONNECT_TIMEOUT_S = 10.0

Row = dict[str, Any]
Batch = list[Row]
E = TypeVar("E", bound=SourceError)


class SourceConfig(Protocol):
    """What every kind's parsed config offers the interface."""

    def secrets(self) -> list[str]: ...

    def describe(self) -> str: ...

    def endpoints(self) -> list[Endpoint]: ...


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """The outcome of `SourceConnector.check()`: failures are data here, not exceptions."""

    ok: bool
    source: str
    server_version: str | None = None
    error: SourceError | None = None

    @property
    def message(self) -> str:
        return "ok" if self.ok else (self.error.message if self.error else "failed")


def require_keys(kind: str, raw: Mapping[str, Any], required: tuple[str, ...]) -> None:
    """Raise `ConnectorConfigInvalid` naming every required key that is missing or empty."""
    if not isinstance(raw, Mapping):
        raise ConnectorConfigInvalid(f"{kind} connection_config must be an object", kind=kind)
    missing = [k for k in required if raw.get(k) in (None, "")]
    if missing:
        raise ConnectorConfigInvalid(
            f"{kind} connection_config is missing {', '.join(missing)} (required: {', '.join(required)})",
            kind=kind,
            extra={"missing": missing},
        )


def connect_timeout(kind: str, raw: Mapping[str, Any]) -> float:
    """`raw`'s `connect_timeout` in seconds (`DEFAULT_CONNECT_TIMEOUT_S` when absent);
    `ConnectorConfigInvalid` unless it is a positive number."""
    timeout = raw.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT_S)
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise ConnectorConfigInvalid(f"{kind} connect_timeout must be a positive number", kind=kind)
    return float(timeout)


def as_watermark(last_pull: dt.datetime | None) -> dt.datetime:
    """The timezone-aware UTC instant bound to `:last_pull` (None, the first pull, binds the epoch)."""
    if last_pull is None:
        return EPOCH
    if last_pull.tzinfo is None:
        return last_pull.replace(tzinfo=dt.UTC)
    return last_pull.astimezone(dt.UTC)


def check_batch_size(batch_size: int) -> int:
    """`batch_size` if it is a positive int; `ConnectorConfigInvalid` otherwise."""
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ConnectorConfigInvalid(f"batch_size must be a positive integer, got {batch_size!r}")
    return batch_size


RawBatch = tuple[Sequence[str], Sequence[Sequence[Any]]]


def convert_batches(raw: Iterator[RawBatch], values: ValueConverter) -> Iterator[Batch]:
    """Batches of JSON-safe dicts from `(columns, rows)` batches; closing this closes `raw`.

    SQL sources fetch on their driver's thread and convert here, on the caller's, so the next
    fetch overlaps this batch's conversion.
    """
    try:
        for columns, rows in raw:
            yield values.table(columns, rows)
    finally:
        close = getattr(raw, "close", None)
        if close is not None:
            close()


class ConfigRules(Protocol):
    """A kind's light config module: what it checks without connecting."""

    def parse_config(self, raw: Mapping[str, Any]) -> Any: ...

    def validate_query(self, query: str) -> None: ...


class SourceConnector(ABC):
    """A pull source of one kind, built from its decrypted config.

    Subclasses set `kind`, `rules` (their config module: `parse_config` raising
    `ConnectorConfigInvalid`, and `validate_query`) and the value converters of their driver's
    types, and implement `check` and `stream`. Every failure raised is a `SourceError` subclass
    whose message never contains credentials.
    """

    kind: ClassVar[str]
    rules: ClassVar[ConfigRules]
    converters: ClassVar[Mapping[type, Any] | None] = None
    config: SourceConfig
    policy: TargetPolicy = STRICT

    def __init__(self, config: Mapping[str, Any], *, policy: TargetPolicy | None = None) -> None:
        self.config = self.rules.parse_config(config)
        self.policy = policy or STRICT
        self._values = ValueConverter(self.converters)

    @property
    def source(self) -> str:
        """A description of the source safe to show and log: kind, host, database; no credentials."""
        return self.config.describe()

    def error(self, cls: type[E], detail: str) -> E:
        """A `cls` error about this source whose message has every credential scrubbed out."""
        return cls(scrub(f"{self.source}: {detail}", self.config.secrets()), kind=self.kind)

    def pinned_endpoints(self, *, keep_names: bool = False) -> list[tuple[str, int]]:
        """The `(host, port)` pairs to connect to, every one checked by the target policy now.

        Names are resolved here and replaced by the addresses that passed the check, so the driver
        connects to what was checked (no DNS rebinding between check and connect); `keep_names`
        keeps the checked names instead, for TLS that verifies the certificate against the name.
        `SourceTargetForbidden` for a refused target, `SourceUnreachable` for a name that does not
        resolve.
        """
        pairs: list[tuple[str, int]] = []
        for endpoint in self.config.endpoints():
            try:
                addresses = self.policy.pin(endpoint)
            except SourceTargetForbidden as exc:
                exc.kind = self.kind
                raise
            except OSError as exc:
                raise self.error(SourceUnreachable, f"cannot resolve {endpoint.host}: {exc}") from None
            if keep_names or endpoint.is_socket:
                pairs.append((endpoint.host, endpoint.port))
            else:
                pairs += [(address, endpoint.port) for address in addresses]
        return pairs

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.source}>"

    @classmethod
    def validate_query(cls, query: str) -> None:
        """Refuse, without connecting, a query this kind can never run (`SourceQueryInvalid`, `SourceWriteRefused`)."""
        cls.rules.validate_query(query)

    @abstractmethod
    def check(self) -> ConnectionCheck:
        """Open a connection, ask the server who it is, close it; report the outcome as data."""

    @abstractmethod
    def stream(
        self, query: str, *, last_pull: dt.datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[Batch]:
        """Run `query` read-only with `:last_pull` bound, yielding lists of at most `batch_size` JSON-safe rows.

        Rows are fetched from the server batch by batch (server-side cursor), never all at once.
        The connection is closed when the iterator is exhausted, fails or is closed. If the source
        goes away after some batches were yielded, `SourceLost` is raised: the pull is incomplete
        and the caller must not advance its watermark.
        """
