"""One database URL, spelled for each driver that needs it.

Kariz keeps a single canonical `postgresql://` URL. SQLAlchemy's sync side uses psycopg 3, the API's
async side asyncpg, and Dagster's storage psycopg2 (dagster-postgres breaks on psycopg 3).
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url


def _with_driver(url: str | URL, driver: str) -> URL:
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername=f"postgresql+{driver}")


def sync_url(url: str | URL) -> URL:
    """The URL for SQLAlchemy's synchronous engine (psycopg 3)."""
    return _with_driver(url, "psycopg")


def async_url(url: str | URL) -> URL:
    """The URL for SQLAlchemy's asyncio engine (asyncpg)."""
    return _with_driver(url, "asyncpg")


def dagster_url(url: str | URL) -> str:
    """The URL for dagster-postgres storage (psycopg2), as a plain string."""
    return _with_driver(url, "psycopg2").render_as_string(hide_password=False)


def libpq_url(url: str | URL) -> str:
    """A plain `postgresql://` URL for libpq-style clients (psql, psycopg.connect, COPY)."""
    return _with_driver(url, "psycopg").set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str | URL, database: str) -> str:
    """The same server, another database."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(database=database).render_as_string(hide_password=False)


def redacted(url: str | URL) -> str:
    """The URL safe to print or log: the password masked."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)
