"""The Dagster instance config `kariz up` installs: a fair run queue and run retries that hold."""

from __future__ import annotations

import dagster as dg
import yaml

from core.settings import REPO_ROOT


def test_the_run_queue_limits_runs_per_tenant_and_retries_runs_that_died_outside() -> None:
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    overrides = {k: config[k] for k in ("run_coordinator", "run_retries", "run_monitoring")}
    with dg.instance_for_test(overrides=overrides) as instance:
        coordinator = instance.run_coordinator
        limits = coordinator.get_run_queue_config().tag_concurrency_limits
        tenant = [limit for limit in limits if limit["key"] == "kariz/tenant"]
        assert tenant and tenant[0]["limit"] == 2 and tenant[0]["value"] == {"applyLimitPerUniqueValue": True}
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 3
        assert instance.run_retries_retry_on_asset_or_op_failure is False
        assert instance.run_monitoring_enabled and instance.run_monitoring_start_timeout_seconds == 300
