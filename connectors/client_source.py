"""What the sources behind a synchronous client (pymongo, the Neo4j driver) share: check and stream.

A kind opens its client on checked endpoints, asks it for the server version, runs a query for
its records (anything with `.items()`), and maps its driver's errors, knowing whether the source had
answered yet; the loops that open, batch, translate and always close are written here once.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Protocol

from connectors.base import Batch, ConnectionCheck, SourceConnector
from connectors.errors import SourceError


class Client(Protocol):
    def close(self) -> None: ...


# (client, answered) -> the query's records, open while the context lasts
Records = Callable[[Any, Callable[[], None]], AbstractContextManager[Iterable[Any]]]


class ClientSource(SourceConnector):
    """A source reached through a synchronous driver client.

    Subclasses set `driver_errors` (what the driver raises) and write `_open`, `_server_version`
    and `_error`; their `stream` prepares the query and returns `self._pull(records, batch_size)`.
    """

    driver_errors: ClassVar[tuple[type[BaseException], ...]]

    @abstractmethod
    def _open(self) -> Client:
        """A client for the checked endpoints (not yet connected), or the `SourceError` saying why not."""

    @abstractmethod
    def _server_version(self, client: Any) -> str:
        """The server's version, asked through `client` (raising a driver error if it does not answer)."""

    @abstractmethod
    def _error(self, exc: BaseException, *, started: bool) -> SourceError:
        """The `SourceError` for a driver error; `started` once the source answered the query."""

    def check(self) -> ConnectionCheck:
        try:
            client = self._open()
        except SourceError as exc:
            return ConnectionCheck(ok=False, source=self.source, error=exc)
        try:
            return ConnectionCheck(ok=True, source=self.source, server_version=self._server_version(client))
        except self.driver_errors as exc:
            return ConnectionCheck(ok=False, source=self.source, error=self._error(exc, started=False))
        finally:
            client.close()

    def _pull(self, records: Records, batch_size: int) -> Iterator[Batch]:
        """Lists of at most `batch_size` rows of the records `records(client, answered)` holds open,
        over a client opened for this pull and closed after it. `records` calls `answered()` once
        the source accepted the query, if it can tell before the first record (a record counts)."""
        client = self._open()
        to_row = self._values.row
        started = False

        def answered() -> None:
            nonlocal started
            started = True

        try:
            with records(client, answered) as found:
                batch: Batch = []
                for record in found:
                    started = True
                    batch.append(to_row(record.items()))
                    if len(batch) >= batch_size:
                        yield batch
                        batch = []
                if batch:
                    yield batch
        except self.driver_errors as exc:
            raise self._error(exc, started=started) from None
        finally:
            client.close()
