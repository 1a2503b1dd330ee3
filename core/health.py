"""Dependency checks for readiness: each answers ok/failed with its latency, never raising."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    error: str | None = None



async def _timed(name: str, timeout: float, probe) -> CheckResult:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout)
        return CheckResult(name, True, (time.perf_counter() - started) * 1000)
    except TimeoutError:
        return CheckResult(name, False, (time.perf_counter() - started) * 1000, f"timed out after {timeout}s")
    except Exception as exc:  # a failed dependency is a result, not an error
        log.warning("readiness check %s failed: %r", name, exc)
        return CheckResult(name, False, (time.perf_counter() - started) * 1000, type(exc).__name__)


async def check_database(session_factory: async_sessionmaker) -> CheckResult:
    async def probe() -> None:
        async with session_factory() as session:
            await session.execute(sa.text("SELECT 1"))

    return await _timed("database", 5.0, probe)


async def check_redis(url: str) -> CheckResult:
    async def probe() -> None:
        import redis.asyncio as redis

        client = redis.from_url(url, socket_connect_timeout=2)
        try:
            await client.ping()
        finally:
            await client.aclose()

    return await _timed("redis", 2.0, probe)


async def check_qdrant(url: str) -> CheckResult:
    async def probe() -> None:
        from qdrant_client import AsyncQdrantClient

        client = AsyncQdrantClient(url=url, timeout=2)
        try:
            await client.get_collections()
        finally:
            await client.close()

    return await _timed("vector_store", 3.0, probe)


async def readiness(settings: Settings, session_factory: async_sessionmaker) -> list[CheckResult]:
    """Every configured dependency, checked concurrently."""
    probes = [check_database(session_factory)]
    if settings.redis_url:
        probes.append(check_redis(settings.redis_url))
    if settings.qdrant_url and settings.qdrant_url.startswith(("http://", "https://")):
        probes.append(check_qdrant(settings.qdrant_url))
    return list(await asyncio.gather(*probes))
