"""Apply Kariz's Alembic migrations (every head) to a database."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

from core.db.urls import sync_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)


def alembic_config(url: str) -> Config:
    """An Alembic config for `url`, independent of the working directory."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema (all heads, so feature branches merge)."""
    command.upgrade(alembic_config(url), "heads")
    log.info("database migrated")
