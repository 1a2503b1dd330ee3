"""A run launcher whose run workers are forked from a pre-warmed forkserver.

Why: Dagster's `DefaultRunLauncher` asks the code server to start each run, and the code server
spawns a fresh interpreter for it, which imports dagster and Kariz's definitions again before the run
can start: on this 2-core machine that was 11.4 s from GraphQL `launchRun` to STARTED near idle
(importing `orchestration.definitions` alone takes ~5 s, dagster's execution and PostgreSQL storage
modules ~2 s more), and 30 s and more on a loaded machine (bench/README.md, Dagster section).

How: the launcher keeps one multiprocessing *forkserver* (`multiprocessing.get_context("forkserver")`)
whose preload already imported dagster's run-execution code, the PostgreSQL storage and
`orchestration.definitions`; each run's worker is a fork of it, so only the run's own work is left.
The daemon that launches runs is multi-threaded, and forking a multi-threaded process can deadlock in
the child, which is why the forks come from the single-threaded forkserver (started with fork+exec),
never from the daemon itself. The worker does what `dagster api execute_run` does
(`dagster._cli.api._execute_run_command_body`: load the instance from its ref, fetch the run, rebuild
the job from `run.job_code_origin` and iterate `core_execute_run`, reporting engine events), after
recording its pid, start time and host in the run's tags (`kariz/worker_*`), before the run can be
STARTED.

- `terminate(run_id)` sends SIGINT to the recorded worker (what Dagster's own termination sends): the
  run is interrupted and ends CANCELED. Any process on the host can terminate, e.g. the webserver.
- A worker that exits before its run finished (killed, out of memory) is failed at once by the
  launching process, which waits for each worker in a thread; `check_run_worker_health` (run
  monitoring, dagster.yaml) catches the same after a daemon restart from the recorded pid and start
  time. A run failed this way is not a step failure, so `run_retries` launches it again.
- Workers outlive the daemon that launched them, as with the code server: stopping the daemon does not
  wait for runs (`kariz up` stops the whole process group, runs included).
- Code changes: the forkserver holds the code it imported. Before each launch the launcher compares a
  fingerprint (path, size and mtime of every `.py` file in the packages of the run's working
  directory, a few ms) with the one the forkserver started on; when it differs, the old forkserver is
  left to its running workers (it exits with the last of them) and a new one imports the new code, so
  the next run pays the import once (seconds) and runs the code on disk, as `execute_run` would.
  Code outside those packages (installed libraries) is only picked up by restarting the daemon.
- The first launch of a process starts the forkserver (the import, seconds); `kariz up` starts the
  daemon through `daemon_main`, which starts it at daemon start-up instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.process
import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil
from dagster._core.launcher import CheckRunHealthResult, LaunchRunContext, RunLauncher, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun
from dagster._serdes import ConfigurableClass, ConfigurableClassData, serialize_value

LOG = logging.getLogger("kariz.launcher")

PID_TAG = "kariz/worker_pid"
STARTED_TAG = "kariz/worker_started"  # the worker's process start time (psutil), so a reused pid is no match
HOST_TAG = "kariz/worker_host"
FORKSERVER_TAG = "kariz/worker_forkserver"  # the forkserver the worker was forked from (its parent)

# what a run worker imports besides the user code: dagster's run execution, instance and PostgreSQL
# storage, compute-log manager (found by listing the modules a housekeeping run's worker imported
# after the fork: ~0.4 s of them on a loaded machine), and this module (the worker's entry point).
# A module missing from this dagster version is skipped (the forkserver ignores ImportError).
BASE_PRELOAD = (
    "dagster",
    "dagster._cli.api",
    "dagster._core.execution.api",
    "dagster._core.instance.factory",
    "dagster._core.storage.root",
    "dagster._core.storage.local_compute_log_manager",
    "dagster._core.storage.sqlite_storage",
    "dagster._core.executor.in_process",
    "dagster._core.execution.plan.active",
    "dagster._core.system_config.composite_descent",
    "dagster._core.utility_ops",
    "dagster._core.definitions.repository_definition.repository_data_builder",
    "dagster._core.workspace.autodiscovery",
    "dagster_postgres",
    "psycopg2",
    "psycopg2.extras",
    "upath",
    "fsspec.implementations.local",
    "watchdog.observers.polling",
    __name__,
)
DEFAULT_PRELOAD = ("orchestration.definitions",)
_SKIP_DIRS = {"node_modules", "__pycache__"}

# the forkserver is process-wide (multiprocessing keeps one per process): what it was started with
_STATE_LOCK = threading.Lock()
_started_key: tuple | None = None


def source_fingerprint(root: str | os.PathLike) -> str:
    """A digest of the path, size and mtime of every `.py` file in the Python packages directly under
    `root` (directories with an `__init__.py`): it changes when the code does."""
    digest = hashlib.sha256()
    base = Path(os.path.realpath(root))
    try:
        packages = sorted(
            p
            for p in base.iterdir()
            if p.is_dir() and (p / "__init__.py").exists() and p.name not in _SKIP_DIRS
        )
    except OSError:
        return ""
    for package in packages:
        for directory, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(directory, name)
                    try:
                        st = os.stat(path)
                    except OSError:
                        continue
                    digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _forkserver() -> Any:
    return multiprocessing.forkserver._forkserver  # the process-wide forkserver


def forkserver_pid() -> int | None:
    """The pid of this process's running forkserver, if one was started."""
    return _forkserver()._forkserver_pid


def _abandon_forkserver() -> None:
    """Start the next fork from a new forkserver; the old one exits once its last worker has (each
    worker holds its end of the pipe whose closing stops it), and is reaped in a thread."""
    server = _forkserver()
    with server._lock:
        pid, alive_fd, address = (
            server._forkserver_pid,
            server._forkserver_alive_fd,
            server._forkserver_address,
        )
        if pid is None:
            return
        server._forkserver_pid = server._forkserver_alive_fd = server._forkserver_address = None
    os.close(alive_fd)
    if isinstance(address, str) and not address.startswith("\0"):
        with contextlib.suppress(OSError):
            os.unlink(address)

    def reap() -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)

    threading.Thread(target=reap, name=f"kariz-forkserver-reap-{pid}", daemon=True).start()


def ensure_forkserver(preload: Sequence[str], root: str | os.PathLike) -> int:
    """Start (or restart, when the preload list or the code under `root` changed) the forkserver;
    returns its pid."""
    global _started_key
    key = (tuple(preload), source_fingerprint(root))
    with _STATE_LOCK:
        if _started_key is not None and _started_key != key:
            LOG.info("code or preload changed: starting a new run-worker forkserver")
            _abandon_forkserver()
        if forkserver_pid() is None or _started_key != key:
            multiprocessing.forkserver.set_forkserver_preload(list(preload))
        _forkserver().ensure_running()
        _started_key = key
        return forkserver_pid()


def _run_worker(serialized_ref: str, run_id: str) -> None:
    """A run worker, in a fork of the forkserver: `dagster api execute_run` for `run_id`."""
    from dagster._cli.api import _execute_run_command_body
    from dagster._core.instance import DagsterInstance
    from dagster._core.instance.ref import InstanceRef
    from dagster._serdes import deserialize_value
    from dagster._utils.interrupts import capture_interrupts

    # SIGINT interrupts the run (terminate), whatever the launching process had for it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    me = psutil.Process()
    with (
        capture_interrupts(),
        DagsterInstance.from_ref(deserialize_value(serialized_ref, InstanceRef)) as instance,
    ):
        instance.add_run_tags(
            run_id,
            {
                PID_TAG: str(me.pid),
                STARTED_TAG: repr(me.create_time()),
                HOST_TAG: socket.gethostname(),
                FORKSERVER_TAG: str(os.getppid()),
            },
        )
        code = _execute_run_command_body(
            run_id, instance, lambda _event: None, set_exit_code_on_failure=False
        )
    sys.exit(code)


def _worker_process(run: DagsterRun) -> psutil.Process | None:
    """The run's worker process if it is still the one the run recorded (same pid and start time)."""
    tags = run.tags
    if PID_TAG not in tags or tags.get(HOST_TAG) != socket.gethostname():
        return None
    try:
        process = psutil.Process(int(tags[PID_TAG]))
        if abs(process.create_time() - float(tags.get(STARTED_TAG, "0"))) > 0.01:
            return None
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process
    except (psutil.Error, ValueError):
        return None


class ForkserverRunLauncher(RunLauncher, ConfigurableClass):
    """Launches each run in a fork of a pre-warmed forkserver (module docstring: why and how).

    Config: `preload_modules`, the modules the forkserver imports besides dagster's execution code
    (default: `orchestration.definitions`)."""

    def __init__(
        self, inst_data: ConfigurableClassData | None = None, preload_modules: Sequence[str] | None = None
    ) -> None:
        self._inst_data = inst_data
        self.preload_modules = list(preload_modules or DEFAULT_PRELOAD)
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict:
        from dagster import Array, Field

        return {"preload_modules": Field(Array(str), is_required=False)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> ForkserverRunLauncher:
        return cls(inst_data=inst_data, **config_value)

    @property
    def preload(self) -> list[str]:
        return [*BASE_PRELOAD, *(m for m in self.preload_modules if m not in BASE_PRELOAD)]

    @staticmethod
    def code_root(run: DagsterRun | None = None) -> str:
        """The working directory of the run's code (where its packages are), else this process's."""
        origin = run.job_code_origin if run is not None else None
        pointer = getattr(getattr(origin, "repository_origin", None), "code_pointer", None)
        return getattr(pointer, "working_directory", None) or os.getcwd()

    def warm(self, root: str | None = None) -> int:
        """Start the forkserver now (its preload imports take seconds); returns its pid."""
        return ensure_forkserver(self.preload, root or os.getcwd())

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        ensure_forkserver(self.preload, self.code_root(run))
        process = multiprocessing.get_context("forkserver").Process(
            target=_run_worker,
            args=(serialize_value(self._instance.get_ref()), run.run_id),
            name=f"kariz-run-{run.run_id}",
        )
        process.start()
        # not joined at interpreter exit: a daemon that stops leaves its runs to finish (or to the
        # process group's signal), as the code server's run workers are left
        multiprocessing.process._children.discard(process)
        self._instance.report_engine_event(
            f"Forked run worker (pid {process.pid}) from the pre-warmed forkserver (pid {forkserver_pid()}).",
            run,
            cls=self.__class__,
        )
        threading.Thread(
            target=self._watch,
            args=(process, run.run_id),
            name=f"kariz-run-watch-{run.run_id[:8]}",
            daemon=True,
        ).start()

    def _watch(self, process: multiprocessing.process.BaseProcess, run_id: str) -> None:
        """Wait for the worker; if it exited before its run finished, end the run (failed, so run
        retries launch it again; canceled if it was being canceled)."""
        process.join()
        code = process.exitcode
        process.close()
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return
        from dagster import DagsterRunStatus

        message = (
            f"Run worker (pid {run.tags.get(PID_TAG, '?')}) exited with code {code} before the run finished."
        )
        if run.status == DagsterRunStatus.CANCELING:
            self._instance.report_run_canceled(run, message)
        else:
            self._instance.report_run_failed(run, message)

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return False
        self._instance.report_run_canceling(run)
        process = _worker_process(run)
        if process is None:
            self._instance.report_engine_event(
                "No live run worker to send the termination to.", run, cls=self.__class__
            )
            return False
        try:
            process.send_signal(signal.SIGINT)
        except psutil.Error:
            return False
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        if PID_TAG not in run.tags:
            # not a worker of this launcher (a run started before it was configured): nothing to check
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no worker pid recorded")
        if run.tags.get(HOST_TAG) != socket.gethostname():
            return CheckRunHealthResult(
                WorkerStatus.RUNNING, f"worker on another host ({run.tags.get(HOST_TAG)})"
            )
        if _worker_process(run) is None:
            return CheckRunHealthResult(
                WorkerStatus.FAILED,
                f"run worker pid {run.tags[PID_TAG]} is gone",
                run_worker_id=run.tags[PID_TAG],
            )
        return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=run.tags[PID_TAG])


def daemon_main() -> None:
    """`dagster-daemon` with the run-worker forkserver started at once (in a thread), so the first run
    after start-up does not pay its imports; `kariz up` runs the daemon this way."""
    from dagster import DagsterInstance
    from dagster._daemon.cli import main

    def prewarm() -> None:
        try:
            with DagsterInstance.get() as instance:
                launcher = instance.run_launcher
                if isinstance(launcher, ForkserverRunLauncher):
                    LOG.info("run-worker forkserver ready (pid %s)", launcher.warm())
        except Exception:  # the first launch starts it instead
            LOG.exception("could not start the run-worker forkserver ahead of the first run")

    threading.Thread(target=prewarm, name="kariz-forkserver-prewarm", daemon=True).start()
    sys.argv[0] = "dagster-daemon"
    sys.exit(main())
