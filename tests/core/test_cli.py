"""`tieout` command line: help everywhere, one clear line and exit 1 for bad settings and busy ports."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser, main
from tests.conftest import _admin_execute, database_url_for

TIEOUT = str(Path(sys.executable).parent / "tieout")


def run_tieout(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    return subprocess.run([TIEOUT, *args], capture_output=True, text=True, timeout=timeout, env=environment)


class TestHelp:
    @pytest.mark.parametrize("command", [[], ["serve"], ["worker"], ["migrate"], ["extract"]])
    def test_every_command_explains_itself(
        self, command: list[str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as exited:
            main([*command, "--help"])
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: tieout {' '.join(command)}".rstrip())
        assert len(out.splitlines()) >= 4

    def test_top_level_help_lists_every_command(self) -> None:
        text = build_parser().format_help()
        for command in ("serve", "worker", "migrate", "extract"):
            assert command in text

    def test_no_command_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exited:
            main([])
        assert exited.value.code == 2

    @pytest.mark.parametrize(
        ("argv", "first_words"),
        [
            (["serve", "--bogus"], "tieout serve: error: unrecognized arguments: --bogus"),
            (["migrate", "--down"], "tieout migrate: error: argument --down: expected one argument"),
            (
                ["cache", "clear", "--engine", "x"],
                "tieout cache clear: error: argument --engine: invalid choice",
            ),
            (["nope"], "tieout: error: argument COMMAND: invalid choice: 'nope'"),
        ],
    )
    def test_usage_errors_are_one_line_pointing_at_help(
        self, argv: list[str], first_words: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
        [line] = capsys.readouterr().err.strip().splitlines()
        assert line.startswith(first_words) and line.endswith("--help)")


class TestFailures:
    def test_bad_setting_is_one_line_and_exit_1(self) -> None:
        result = run_tieout("serve", TIEOUT_ENV="staging")
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            "tieout: error: invalid setting TIEOUT_ENV: Input should be 'development' or 'production'"
        ]
        assert "Traceback" not in result.stdout + result.stderr

    def test_bad_setting_in_migrate_and_worker_too(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("DB_POOL_SIZE", "0")
        assert main(["migrate"]) == 1
        assert main(["worker"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert (
            err[0]
            == "tieout: error: invalid setting DB_POOL_SIZE: Input should be greater than or equal to 1"
        )
        assert len(err) == 2

    def test_port_in_use_is_one_line_and_exit_1(self, tmp_path: Path) -> None:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            result = run_tieout("serve", "--port", str(port), TIEOUT_DATA_DIR=str(tmp_path))
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            f"tieout: error: cannot listen on 127.0.0.1:{port}: address already in use"
        ]
        assert not (tmp_path / "pg").exists(), "nothing should start before the port is known to be free"

    def test_unreachable_database_is_one_line(self, tmp_path: Path) -> None:
        missing = f"postgresql://nobody@/tieout?host={tmp_path}"
        result = run_tieout("migrate", DATABASE_URL=missing)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert lines[-1].startswith("tieout: error: database unreachable at postgresql+asyncpg://")
        assert "Traceback" not in result.stderr


class TestMigrateCommand:
    async def test_migrate_down_and_up_against_database_url(self, postgres_url: str) -> None:
        name = "tieout_cli_migrate"
        await _admin_execute(
            postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
        )
        url = database_url_for(postgres_url, name)
        try:
            up = await asyncio.to_thread(run_tieout, "migrate", DATABASE_URL=url, LOG_LEVEL="WARNING")
            assert up.returncode == 0, up.stderr
            assert up.stdout.startswith("database at revision ")
            down = await asyncio.to_thread(
                run_tieout, "migrate", "--down", "base", DATABASE_URL=url, LOG_LEVEL="WARNING"
            )
            assert down.returncode == 0, down.stderr
            assert down.stdout.strip() == "database at revision base (empty)"
        finally:
            await _admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
