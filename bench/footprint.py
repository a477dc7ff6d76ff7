"""How heavy a process is: the import time of the app, and the resident memory of an idle
``feedback-bot web`` and ``feedback-bot worker``.

    python3 bench/footprint.py [--runs 3]

Starts each process on Redis (REDIS_URL, default redis://127.0.0.1:6379/12) and a SQLite store
in a temporary folder, waits until it is ready (the web answers /readyz, the worker logs that
it started), lets it idle for two seconds and reads VmRSS from /proc; the median of ``--runs``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12")


def env(data: str, port: int) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "REDIS_URL": REDIS_URL,
        "DATA_DIR": data,
        "PORT": str(port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "API_TOKEN": "api",
        "ADMIN_TOKEN": "admin",
        "PSEUDONYM_KEY": "key",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "token",
        "TWILIO_FROM_NUMBER": "+12025550100",
        "LOG_LEVEL": "INFO",
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def idle_rss(command: str) -> float:
    with tempfile.TemporaryDirectory() as data:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        log = Path(data) / "log"
        with log.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "bot.cli", command],
                                       env=env(data, port), stdout=out, stderr=out)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if command == "web":
                    try:
                        urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
                        break
                    except OSError:
                        pass
                elif "worker started" in log.read_text():
                    break
                time.sleep(0.1)
            else:
                raise RuntimeError(log.read_text())
            time.sleep(2)
            return rss_mb(process.pid)
        finally:
            process.terminate()
            process.wait(30)


def import_seconds() -> float:
    code = (
        "import time; t = time.perf_counter(); import bot.web.app; print(time.perf_counter() - t)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parent.parent)  # fmt: skip
    return float(result.stdout)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    imports = [import_seconds() for _ in range(runs)]
    print(f"import bot.web.app: {statistics.median(imports):.2f} s (runs: "
          f"{', '.join(f'{x:.2f}' for x in imports)})")  # fmt: skip
    for command in ("web", "worker"):
        sizes = [idle_rss(command) for _ in range(runs)]
        print(f"idle {command}: {statistics.median(sizes):.0f} MB resident (runs: "
              f"{', '.join(f'{x:.0f}' for x in sizes)})")  # fmt: skip
