"""What the security checks cost: the connector target check per pull, the token session check per request.

`.venv/bin/python bench/security_checks.py [--rounds 5] [--n 200]`

1. Connect-time target check (`TargetPolicy.pin`: resolve + check every address), alone and inside
   a real connection: the MySQL connector's `check()` against MariaDB on 127.0.0.1 (connect, SELECT
   VERSION(), close) with the check, beside the same call with a policy that checks nothing
   (baseline).
2. Token check per request: `GET /api/v1/tenants` with a portal JWT through the real app in-process
   on a fresh embedded PostgreSQL, with the session check read from PostgreSQL on every request
   (cache off), with the default 5 s cache, and the baseline with the check skipped.

Medians over rounds, modes interleaved within each round.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from connectors.registry import build_connector
from connectors.targets import Endpoint, TargetPolicy


class NoCheck(TargetPolicy):
    """Baseline: connect where the config says, checking nothing."""

    def pin(self, endpoint: Endpoint) -> list[str]:
        return [endpoint.host]


def per_call(fn, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n


def bench_targets(rounds: int, n: int) -> list[tuple[str, float]]:
    allowed = TargetPolicy.from_entries(["127.0.0.1", "localhost"])
    literal, name = Endpoint("127.0.0.1", 3306), Endpoint("localhost", 3306)
    config = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": "", "database": "mysql"}
    checked = build_connector("mysql", config, policy=allowed)
    unchecked = build_connector("mysql", config, policy=NoCheck())
    assert checked.check().ok, "MariaDB on 127.0.0.1:3306 is needed"
    results: dict[str, list[float]] = {k: [] for k in ("literal", "name", "conn_checked", "conn_baseline")}
    for _ in range(rounds):
        results["literal"].append(per_call(lambda: allowed.pin(literal), n * 10))
        results["name"].append(per_call(lambda: allowed.pin(name), n))
        results["conn_baseline"].append(per_call(unchecked.check, max(n // 10, 5)))
        results["conn_checked"].append(per_call(checked.check, max(n // 10, 5)))
    med = {k: statistics.median(v) for k, v in results.items()}
    return [
        ("target check, IP literal (parse + range checks)", med["literal"]),
        ("target check, name `localhost` (getaddrinfo + checks)", med["name"]),
        ("baseline: MySQL connection (connect, SELECT VERSION(), close), no check", med["conn_baseline"]),
        ("MySQL connection with the connect-time check", med["conn_checked"]),
    ]


async def bench_tokens(rounds: int, n: int) -> list[tuple[str, float]]:
    import httpx

    from api.app import create_app
    from api.auth import middleware
    from core.db.embedded import (
        app_role_password,
        ensure_app_database,
        start_embedded_server,
        stop_embedded_server,
    )
    from core.db.migrate import upgrade
    from core.settings import Settings, override_settings

    folder = Path(tempfile.mkdtemp(prefix="kariz-bench-"))
    pg_dir = folder / "pg"
    url = ensure_app_database(start_embedded_server(pg_dir), "kariz_bench", app_password=app_role_password(pg_dir))
    upgrade(url)
    settings = Settings(env="test", data_dir=folder, database_url=url, jwt_secret="b" * 40,
                        connector_encryption_key="pgyQWUDq1bxcIT3XzM5eOeFf3gqRWmtk0fzC4jHKu0M=",
                        default_per_minute_limit=10**9, default_daily_limit=10**9)
    override_settings(settings)
    app = create_app(settings)
    for hook in app.on_startup:
        await hook(app)
    results: dict[str, list[float]] = {"baseline": [], "cached": [], "uncached": []}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
            reg = await http.post("/api/v1/register", json={"name": f"b-{uuid.uuid4().hex[:6]}", "email": "b@x.io"})
            key = reg.json()["data"]["apiKey"]
            token = (await http.post("/api/v1/auth/token", headers={"x-api-key": key})).json()["data"]["token"]
            headers = {"Authorization": f"Bearer {token}"}

            async def timed(count: int) -> float:
                started = time.perf_counter()
                for _ in range(count):
                    response = await http.get("/api/v1/tenants", headers=headers)
                    assert response.status_code == 200, response.text
                return (time.perf_counter() - started) / count

            for _ in range(rounds):
                middleware.CACHE_SECONDS = 10**9  # the check answered once, then never asked again
                middleware._session_cache.clear()
                await timed(1)
                results["baseline"].append(await timed(n))
                middleware.CACHE_SECONDS = 5.0
                middleware._session_cache.clear()
                results["cached"].append(await timed(n))
                middleware.CACHE_SECONDS = 0.0
                results["uncached"].append(await timed(n))
    finally:
        middleware.CACHE_SECONDS = 5.0
        for hook in app.on_shutdown:
            await hook(app)
        override_settings(None)
        stop_embedded_server(pg_dir)
    med = {k: statistics.median(v) for k, v in results.items()}
    return [
        ("baseline: GET /tenants with a JWT, session check skipped", med["baseline"]),
        ("GET /tenants with a JWT, session check with the 5 s cache (default)", med["cached"]),
        ("GET /tenants with a JWT, session read from PostgreSQL every request", med["uncached"]),
    ]


def show(title: str, rows: list[tuple[str, float]], baseline: float) -> None:
    print(f"\n{title}\n| what | per call ms | x baseline |\n| --- | ---: | ---: |")
    for label, seconds in rows:
        print(f"| {label} | {seconds * 1000:.3f} | {seconds / baseline:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    targets = bench_targets(args.rounds, args.n)
    show("Connector target check", targets, targets[2][1])
    tokens = asyncio.run(bench_tokens(args.rounds, args.n))
    show("Token session check", tokens, tokens[0][1])


if __name__ == "__main__":
    main()
