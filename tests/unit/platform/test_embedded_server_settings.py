"""The embedded PostgreSQL's settings are sized for the machine (core/db/embedded.server_settings)."""

from __future__ import annotations

from core.db.embedded import MB, server_settings


def _mb(value: str) -> int:
    assert value.endswith("MB")
    return int(value[:-2])


def test_a_small_machine_keeps_postgres_floors() -> None:
    small = server_settings(1024 * MB)
    assert small["shared_buffers"] == "256MB"
    assert small["work_mem"] == "4MB"  # never below PostgreSQL's own default
    assert small["maintenance_work_mem"] == "64MB"
    assert _mb(small["effective_cache_size"]) == 768


def test_a_large_machine_is_capped_so_the_api_and_models_keep_their_memory() -> None:
    large = server_settings(256 * 1024 * MB)
    assert large["shared_buffers"] == "4096MB"
    assert large["work_mem"] == "64MB"
    assert large["maintenance_work_mem"] == "2048MB"


def test_a_two_core_24_gb_machine() -> None:
    settings = server_settings(24 * 1024 * MB)
    assert settings["shared_buffers"] == "4096MB"
    assert settings["effective_cache_size"] == f"{24 * 1024 * 3 // 4}MB"
    assert settings["work_mem"] == "48MB"
    assert settings["maintenance_work_mem"] == "1536MB"
    assert settings["max_wal_size"] == "4GB" and settings["random_page_cost"] == "1.1"
