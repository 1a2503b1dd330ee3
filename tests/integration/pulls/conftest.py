"""Pull-service fixtures: the connector suites' real source peers, and Dagster runs served in-process.

No Dagster daemon runs in tests, so a pull request written through the API is turned into a run by
calling the real request sensor and executing the run it asks for with `execute_in_process`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import pytest
import sqlalchemy as sa

from orchestration.connectors import build_pull_job
from orchestration.definitions import defs
from orchestration.resources import DatabaseResource

# the connector suites' peers: PostgreSQL database, MariaDB database + reader, SecantusDB servers
from tests.integration.connectors.conftest import (  # noqa: F401
    doomed_mongo_server,
    mongo_server,
    mysql_source,
    pg_source_url,
)
from tests.integration.connectors.peers import pg_execute

# retries without the production backoff, so a test of a retryable failure takes seconds
FAST_RETRY = dg.RetryPolicy(max_retries=1, delay=0)


@dataclass
class ServedRun:
    request_id: str
    run: dg.ExecuteInProcessResult
    run_request: dg.RunRequest


class DagsterRunner:
    """Serves queued pull requests the way the daemon would: sensor tick, then the run it asks for."""

    def __init__(self, database_url: str, instance: dg.DagsterInstance) -> None:
        self.database = DatabaseResource(url=database_url)
        self.instance = instance
        self.repository = defs.get_repository_def()
        self.job = self.repository.get_job("connector_pull_job")
        self.fast_job = dg.Definitions(
            assets=[self.repository.assets_defs_by_key[dg.AssetKey("connector_records")]],
            jobs=[build_pull_job(FAST_RETRY, name="connector_pull_job_fast")],
        ).resolve_job_def("connector_pull_job_fast")

    def tick(self, sensor_name: str = "pull_request_sensor", cursor: str | None = None) -> dg.SensorResult:
        sensor = self.repository.get_sensor_def(sensor_name)
        context = dg.build_sensor_context(
            instance=self.instance, resources={"database": self.database}, cursor=cursor
        )
        return sensor(context)

    def execute(self, run_request: dg.RunRequest, *, fast_retries: bool = False) -> dg.ExecuteInProcessResult:
        self.instance.add_dynamic_partitions("connectors", [run_request.partition_key])
        job = self.fast_job if fast_retries else self.job
        return job.execute_in_process(
            run_config=run_request.run_config,
            instance=self.instance,
            tags=run_request.tags,
            partition_key=run_request.partition_key,
            resources={"database": self.database},
            raise_on_error=False,
        )

    def serve(self, request_id: str, *, fast_retries: bool = False) -> ServedRun:
        """Run the sensor, check it asks for exactly one run for `request_id`, and execute that run."""
        result = self.tick()
        ours = [r for r in (result.run_requests or []) if r.run_key == request_id]
        assert len(ours) == 1, f"the sensor did not ask for a run of {request_id}"
        return ServedRun(request_id, self.execute(ours[0], fast_retries=fast_retries), ours[0])


@pytest.fixture
def dagster_runner(database_url: str) -> Iterator[DagsterRunner]:
    with dg.instance_for_test() as instance:
        yield DagsterRunner(database_url, instance)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


PASSWORD = "pw-s3cret-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def reader_dsn(pg_source_url: str) -> str:  # noqa: F811 (the imported fixture)
    """A password-protected read role on the source database, as a tenant would hand it over."""
    role = unique("reader")
    pg_execute(
        pg_source_url,
        f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
    )
    parts = urlsplit(pg_source_url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{role}:{PASSWORD}@{host}", parts.path, parts.query, ""))


def products_table(pg_source_url: str, rows: int = 25) -> str:  # noqa: F811
    table = unique("products")
    pg_execute(
        pg_source_url,
        f"CREATE TABLE {table} (id int PRIMARY KEY, title text, sku uuid, price numeric(10,2), "
        "updated_at timestamptz NOT NULL)",
        f"INSERT INTO {table} SELECT g, 'bolt M' || g, md5(g::text)::uuid, g * 1.25, "
        f"timestamptz '2024-01-01' + g * interval '1 hour' FROM generate_series(1, {rows}) g",
    )
    return table


def records(engine: sa.Engine, tenant_id: str, vertical: str) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT r.name, r.record_type, r.source_type, r.source_name, r.collection_data "
                    "FROM records r JOIN collections c ON c.id = r.collection_id "
                    "WHERE c.tenant_id = :t AND c.name = :v ORDER BY r.name"
                ),
                {"t": tenant_id, "v": vertical},
            )
        )
