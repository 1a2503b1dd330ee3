"""`kariz connectors ...`: operator commands for database connectors (key rotation)."""

from __future__ import annotations

import sys

import click

import core.settings


@click.group("connectors")
def command() -> None:
    """Database connectors."""


@command.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored connection config with the first CONNECTOR_ENCRYPTION_KEY.

    Put the new key first (`CONNECTOR_ENCRYPTION_KEY=new,old`), run this, then drop the old key.
    Prints counts only, never a secret; exits 1 if some config could not be opened by any key."""
    from core.db.engine import make_session_factory, make_sync_engine, session_scope
    from core.pulls.keys import rotate_connector_keys
    from core.security.encryption import CredentialBox
    from kariz.instance import existing_database_url

    settings = core.settings.get_settings()
    box = CredentialBox.from_settings(settings)
    engine = make_sync_engine(existing_database_url(settings), pool_size=1)
    try:
        with session_scope(make_session_factory(engine)) as session:
            report = rotate_connector_keys(session, box)
    finally:
        engine.dispose()
    click.echo(
        f"connectors: {report.total}, re-encrypted with the first key: {report.rotated}, "
        f"unreadable: {len(report.unreadable)}"
    )
    if report.unreadable:
        click.echo(
            "no configured key opens the credentials of: " + ", ".join(map(str, report.unreadable)), err=True
        )
        sys.exit(1)
