"""The search result cache: in process memory by default, Redis when `REDIS_URL` is set.

Keys carry tenant, collection, its active generation and its search version (bumped in PostgreSQL by
every write), so a write or a generation swap makes older entries unreachable from any process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections import OrderedDict
from typing import Any, Protocol

log = logging.getLogger(__name__)


def cache_key(
    tenant_id: uuid.UUID, collection_id: uuid.UUID, generation: int, version: int, token: str
) -> str:
    """The cache key of one request against one state of a collection."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:32]
    return f"kariz:search:{tenant_id}:{collection_id}:{generation}:{version}:{digest}"


class SearchCache(Protocol):
    """Where search responses are kept for `ttl` seconds."""

    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def set(self, key: str, value: dict[str, Any], ttl: int) -> None: ...


class MemorySearchCache:
    """A bounded LRU in this process, entries expiring after their ttl."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._max = max_entries

    async def get(self, key: str) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires < time.monotonic():
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: dict[str, Any], ttl: int) -> None:
        self._entries[key] = (time.monotonic() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


class RedisSearchCache:
    """Redis (shared by every API process); an unreachable Redis is a cache miss, never an error."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._client = redis.from_url(url)

    async def get(self, key: str) -> dict[str, Any] | None:
        try:
            raw = await self._client.get(key)
        except Exception as exc:  # a cache must not take search down with it
            log.warning("search cache read failed: %s", exc)
            return None
        return json.loads(raw) if raw else None

    async def set(self, key: str, value: dict[str, Any], ttl: int) -> None:
        try:
            await self._client.set(key, json.dumps(value, ensure_ascii=False), ex=ttl)
        except Exception as exc:
            log.warning("search cache write failed: %s", exc)

    async def close(self) -> None:
        await self._client.aclose()


_caches: dict[str | None, SearchCache] = {}


def get_search_cache(redis_url: str | None) -> SearchCache:
    """The process-wide cache for these settings: Redis when a URL is given, memory otherwise."""
    cache = _caches.get(redis_url)
    if cache is None:
        cache = RedisSearchCache(redis_url) if redis_url else MemorySearchCache()
        _caches[redis_url] = cache
    return cache
