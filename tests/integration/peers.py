"""Machine services the integration tests talk to. Under CI a missing service is a failure, not a skip."""

from __future__ import annotations

import os
import socket

import pytest


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_redis() -> str:
    """The Redis URL (REDIS_TEST_URL or 127.0.0.1:6379); fails under CI when none answers."""
    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    if not port_open("127.0.0.1", 6379) and "REDIS_TEST_URL" not in os.environ:
        if os.environ.get("CI"):
            pytest.fail("Redis is required under CI (.ci/services starts it)")
        pytest.skip("no Redis at 127.0.0.1:6379")
    return url
