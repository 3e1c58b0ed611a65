"""Real worker processes for the reliability scenarios: started with the test profile, killed by pid.

`Workers.spawn(**env)` starts `tieout worker` (or, with `sample_tasks=True`, the same command with the
test-only tasks of `tests/jobs/sample_tasks.py` registered) with LEASE 3 s, HEARTBEAT 1 s, POLL 0.5 s
and retry base 0.1 s (reliability.md (b)); its log goes to a file in the test's folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

ROOT = Path(__file__).resolve().parents[2]
TIEOUT = str(Path(sys.executable).parent / "tieout")
LEASE = 3.0
TEST_PROFILE_ENV = {
    "LOG_LEVEL": "WARNING",
    "RUN_MIGRATIONS": "false",
    "LEASE_SECONDS": str(LEASE),
    "HEARTBEAT_SECONDS": "1",
    "POLL_INTERVAL": "0.5",
    "RETRY_BASE_SECONDS": "0.1",
    "SHUTDOWN_GRACE_SECONDS": "3",
    "WORKER_CONCURRENCY": "4",
    "TEXT_ENGINE": "local",
}


@dataclass
class Workers:
    database_url: str
    tmp: Path
    env: dict[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _logs: list[IO[bytes]] = field(default_factory=list)

    def spawn(self, *, sample_tasks: bool = False, **env: Any) -> subprocess.Popen[bytes]:
        values = {
            **os.environ,
            **TEST_PROFILE_ENV,
            "DATABASE_URL": self.database_url,
            "TIEOUT_DATA_DIR": str(self.tmp / "worker-data"),
            **self.env,
            **{name.upper(): str(value) for name, value in env.items()},
        }
        command = [sys.executable, "-m", "tests.e2e.run_worker"] if sample_tasks else [TIEOUT, "worker"]
        log = open(self.tmp / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115 (closed in stop_all)
        self._logs.append(log)
        proc = subprocess.Popen(command, cwd=ROOT, env=values, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def log_of(self, proc: subprocess.Popen[bytes]) -> str:
        return (self.tmp / f"worker-{self.procs.index(proc)}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
            proc.wait(timeout=30)
        for log in self._logs:
            log.close()


def owner_pattern(proc: subprocess.Popen[bytes]) -> str:
    """`LIKE` pattern of the `lease_owner` values of a worker process (`host-pid-random`)."""
    return f"%-{proc.pid}-%"


def rss_mib(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 1024**2
