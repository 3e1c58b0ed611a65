"""Measure `tieout serve` start-up to a 200 from /health/ready, on a fresh and on a warm data folder.

Usage: uv run python scripts/measure_startup.py [--runs 3] [--data-dir DIR] [--command "uv run tieout"]

The cold run uses a new, empty data folder (initdb + migrations); the warm runs reuse it. Each run is
stopped with SIGINT (Ctrl-C), and the script checks that the embedded PostgreSQL stopped too.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def one_run(command: list[str], data_dir: Path) -> tuple[float, bool]:
    """Seconds from launch to ready, and whether the embedded server was gone after Ctrl-C."""
    port = free_port()
    env = {**os.environ, "TIEOUT_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    began = time.perf_counter()
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/health/ready"
        while not is_ready(url):
            if process.poll() is not None:
                raise SystemExit(f"serve exited with {process.returncode}: {process.stderr.read()}")
            if time.perf_counter() - began > READY_TIMEOUT:
                raise SystemExit(f"not ready after {READY_TIMEOUT:.0f} s")
            time.sleep(0.05)
        elapsed = time.perf_counter() - began
        process.send_signal(signal.SIGINT)
        process.wait(timeout=STOP_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stopped = not (data_dir / "pg" / "postmaster.pid").exists()
    return elapsed, stopped


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="warm runs after the cold one (default 3)")
    parser.add_argument("--data-dir", type=Path, help="make the data folder inside DIR (default: a temp dir)")
    parser.add_argument(
        "--command", default="uv run tieout", help='how to run tieout (default "uv run tieout")'
    )
    args = parser.parse_args()

    parent = args.data_dir or Path(tempfile.mkdtemp(prefix="tieout-startup-"))
    parent.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=parent))
    command = shlex.split(args.command)

    cold, cold_stopped = one_run(command, data_dir)
    warm_runs = [one_run(command, data_dir) for _ in range(args.runs)]
    warm = [seconds for seconds, _ in warm_runs]
    all_stopped = cold_stopped and all(stopped for _, stopped in warm_runs)

    print(f"tieout serve start-up to /health/ready 200 ({args.command}, data folder {data_dir})")
    print()
    print("| start | seconds | target |")
    print("|---|---|---|")
    print(f"| fresh data folder (initdb + migrations) | {cold:.2f} | < 10 |")
    print(f"| warm data folder, median of {len(warm)} | {statistics.median(warm):.2f} | < 3 |")
    print(f"| warm runs | {', '.join(f'{s:.2f}' for s in warm)} | |")
    print()
    print(f"embedded PostgreSQL stopped after every Ctrl-C: {'yes' if all_stopped else 'NO'}")
    return 0 if all_stopped else 1


if __name__ == "__main__":
    sys.exit(main())
