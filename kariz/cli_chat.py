"""`kariz chat TENANT "question"`: ask the grounded chat through the API; the answer prints as it
streams, then its sources."""

from __future__ import annotations

import click

from core.settings import get_settings


@click.command("chat")
@click.argument("tenant_id")
@click.argument("question")
@click.option("--chat-id", default=None, help="Continue this conversation.")
@click.option("--account-id", default=None, help="Answer from this account's documents only.")
@click.option("--url", default=None, help="API base URL (default: this machine's Kariz API).")
@click.option("--api-key", envvar="KARIZ_API_KEY", required=True, help="An API key (or KARIZ_API_KEY).")
def command(tenant_id: str, question: str, chat_id: str | None, account_id: str | None, url: str | None,
            api_key: str) -> None:
    """Ask QUESTION of TENANT's documents and data; prints the answer, then the sources it cited."""
    import kariz
    from kariz.sdk.chat import ChatDelta, ChatDone, ChatError, ChatSources, ChatToolCall

    settings = get_settings()
    base_url = url or f"http://{settings.api_host}:{settings.api_port}"
    sources = {}
    cited: list[int] = []
    try:
        with kariz.Client(base_url, api_key) as client:
            for event in client.chat(question, tenant_id=tenant_id, chat_id=chat_id, account_id=account_id):
                if isinstance(event, ChatSources):
                    sources = {s.n: s for s in event.items}
                elif isinstance(event, ChatToolCall):
                    click.echo(f"(tool {event.name} {event.arguments})", err=True)
                elif isinstance(event, ChatDelta):
                    click.echo(event.text, nl=False)
                elif isinstance(event, ChatError):
                    click.echo(f"\nerror: {event.message}", err=True)
                elif isinstance(event, ChatDone):
                    cited = [c.n for c in event.citations]
                    click.echo()
                    click.echo(f"chat {event.chat_id} · {event.usage.total_tokens} tokens", err=True)
    except kariz.KarizError as exc:
        raise click.ClickException(str(exc)) from exc
    if cited:
        click.echo("Sources:")
        for n in cited:
            s = sources.get(n)
            if s is not None:
                page = f", page {s.page}" if s.page is not None else ""
                click.echo(f"  [{n}] {s.file_name}{page}")
