"""A code location for the run-launcher tests: an asset that records which process ran it, and a job
that holds its run until released (to terminate it, or kill its worker, mid-run)."""

# no `from __future__ import annotations`: Dagster reads config annotations at definition time

import os
import time
from pathlib import Path

import dagster as dg

IMPORTED_IN = os.getpid()  # the process that imported this module: the forkserver, when preloaded


@dg.asset
def worker_probe() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"pid": os.getpid(), "ppid": os.getppid(), "imported_in": IMPORTED_IN}
    )


class HoldConfig(dg.Config):
    release_file: str
    seconds: float = 60.0


@dg.op
def hold(context: dg.OpExecutionContext, config: HoldConfig) -> None:
    Path(config.release_file + ".started").write_text(str(os.getpid()))
    deadline = time.monotonic() + config.seconds
    while time.monotonic() < deadline and not Path(config.release_file).exists():
        time.sleep(0.05)
    context.log.info("released")


@dg.job
def hold_job() -> None:
    hold()


defs = dg.Definitions(
    assets=[worker_probe],
    jobs=[dg.define_asset_job("probe_job", selection=[worker_probe]), hold_job],
    executor=dg.in_process_executor,
)
