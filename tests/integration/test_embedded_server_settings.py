"""The embedded server runs with settings sized for the memory it is given, from its first start;
an operator's ALTER SYSTEM still wins over them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from core.db.embedded import CONFIG_FILE, MB, start_embedded_server, stop_embedded_server
from core.db.urls import sync_url


def _show(url: str, *names: str) -> dict[str, str]:
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return {n: conn.execute(sa.text(f"SHOW {n}")).scalar_one() for n in names}
    finally:
        engine.dispose()


def test_settings_are_sized_from_the_first_start_and_follow_the_memory(tmp_path: Path) -> None:
    pg_dir = tmp_path / "pg"
    try:
        url = start_embedded_server(pg_dir, memory=2048 * MB)
        # shared_buffers needs a restart: a fresh data folder gets it before anyone connects
        assert _show(url, "shared_buffers", "maintenance_work_mem", "random_page_cost") == {
            "shared_buffers": "512MB", "maintenance_work_mem": "128MB", "random_page_cost": "1.1"}
        assert (pg_dir / CONFIG_FILE).exists()
        assert stop_embedded_server(pg_dir)
        # started again for more memory: the file is rewritten before the server reads it
        url = start_embedded_server(pg_dir, memory=4096 * MB)
        assert _show(url, "shared_buffers", "work_mem") == {"shared_buffers": "1GB", "work_mem": "8MB"}
        included = (pg_dir / "postgresql.conf").read_text().count(CONFIG_FILE)
        assert included == 1
    finally:
        stop_embedded_server(pg_dir)


def test_an_operators_alter_system_wins(tmp_path: Path) -> None:
    pg_dir = tmp_path / "pg"
    try:
        url = start_embedded_server(pg_dir, memory=2048 * MB)
        engine = sa.create_engine(sync_url(url), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("ALTER SYSTEM SET work_mem = '7MB'"))
        finally:
            engine.dispose()
        assert stop_embedded_server(pg_dir)
        url = start_embedded_server(pg_dir, memory=2048 * MB)
        assert _show(url, "work_mem", "shared_buffers") == {"work_mem": "7MB", "shared_buffers": "512MB"}
    finally:
        stop_embedded_server(pg_dir)
