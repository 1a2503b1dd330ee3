"""The commands find the running instance through `kariz up`'s state file, and with none running
they say so in one line and exit 1: no traceback, no empty database created."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.settings import Settings
from kariz.cli import main
from kariz.instance import Instance, api_base_url, clear_state, running_instance, state_path, write_state
from tests.integration.cli.test_cli import cli_env  # noqa: F401 - the CLI tests' environment fixture

KARIZ = str(Path(sys.executable).parent / "kariz")


def run_kariz(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KARIZ_DATABASE_URL")}
    env["KARIZ_DATA_DIR"] = str(data_dir)
    return subprocess.run([KARIZ, *args], env=env, capture_output=True, text=True, timeout=120)


def test_status_with_nothing_there_is_one_line_and_creates_no_database(tmp_path: Path) -> None:
    result = run_kariz(tmp_path, "status")
    assert result.returncode == 1
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "no Kariz database" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "pg").exists(), "status created an embedded database"


def test_export_with_no_instance_running_says_so(tmp_path: Path) -> None:
    result = run_kariz(tmp_path, "export", "parts", "--api-key", "sk_live_x")
    assert result.returncode == 1
    assert "no running Kariz" in result.stderr and "--url" in result.stderr
    assert "Traceback" not in result.stderr


def test_key_and_tenant_commands_refuse_to_create_an_empty_database(tmp_path: Path) -> None:
    result = run_kariz(tmp_path, "tenant", "create", "acme")
    assert result.returncode == 1 and "no Kariz database" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "pg").exists()


def test_the_state_file_names_the_running_instance(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path)
    assert running_instance(settings) is None
    live = Instance(pid=os.getpid(), data_dir=str(tmp_path), api_url="http://127.0.0.1:8123/api/v1",
                    dagster_url="http://127.0.0.1:3123", api_port=8123, dagster_port=3123,
                    started_at="2026-12-02T05:00:00+00:00")
    write_state(settings, live)
    assert json.loads(state_path(settings).read_text())["api_url"] == "http://127.0.0.1:8123/api/v1"
    assert running_instance(settings) == live
    assert api_base_url(settings, None) == "http://127.0.0.1:8123"
    assert api_base_url(settings, "http://elsewhere:9000/") == "http://elsewhere:9000"  # --url overrides
    dead = Instance(**{**live.__dict__, "pid": 2**22 + 12345})
    write_state(settings, dead)
    assert running_instance(settings) is None  # a stale file from a killed `kariz up` is ignored
    clear_state(settings)
    assert not state_path(settings).exists()


@pytest.mark.usefixtures("cli_env")
def test_status_probes_the_instance_from_the_state_file(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path)
    write_state(settings, Instance(pid=os.getpid(), data_dir=str(tmp_path), api_url="http://127.0.0.1:9/api/v1",
                                   dagster_url="http://127.0.0.1:9", api_port=9, dagster_port=9,
                                   started_at="2026-12-02T05:00:00+00:00"))
    result = CliRunner().invoke(main, ["status"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["instance"].startswith("kariz up (pid") and report["api"] == "down"
