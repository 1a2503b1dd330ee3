"""`kariz export COLLECTION`: export a collection through the API with the Python SDK."""

from __future__ import annotations

from pathlib import Path

import click

from core.settings import get_settings
from kariz.instance import api_base_url


@click.command("export")
@click.argument("collection")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option(
    "--status",
    type=click.Choice(["active", "archived", "draft"]),
    default="active",
    show_default=True,
    help="Which records to export.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="File or folder to write to (default: the server's file name in the current folder).",
)
@click.option("--url", default=None, help="API base URL (default: the instance `kariz up` runs).")
@click.option("--api-key", envvar="KARIZ_API_KEY", required=True, help="An API key (or KARIZ_API_KEY).")
@click.option(
    "--timeout", type=float, default=3600.0, show_default=True, help="Seconds to wait for the export."
)
@click.option("--progress/--no-progress", default=True, show_default=True)
def command(
    collection: str,
    fmt: str,
    status: str,
    output: Path | None,
    url: str | None,
    api_key: str,
    timeout: float,
    progress: bool,
) -> None:
    """Export COLLECTION to a CSV or JSON file: start, wait, download."""
    import kariz

    base_url = api_base_url(get_settings(), url)
    try:
        with kariz.Client(base_url, api_key) as client:
            result = client.export(
                collection, format=fmt, status=status, to=output, progress=progress, timeout=timeout
            )
    except kariz.KarizError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = f"{result.rows:,} rows, " if result.rows is not None else ""
    click.echo(f"{result.export_id}: {rows}{result.bytes:,} bytes -> {result.path}")
