"""`apiforge serve`: refused with one line when misconfigured; otherwise a real process (the
module entry point, Uvicorn with uvloop and httptools) that answers and exits cleanly on SIGINT,
logs only JSON in production, and with one or two workers serves their summed metrics on
metrics.port. SIGTERM and the drain: test_shutdown.py."""

import importlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from apiforge.bench.targets import free_port
from apiforge.kit.serving.granian_server import LIFESPAN_CLOSE_SECONDS, KitGranian
from tests.cli.conftest import PRODUCTION_KEY, invoke
from tests.cli.servers import (
    REPO,
    SLOW_APP,
    Samples,
    running,
    scrape,
    serve_command,
    wait_for,
)
from tests.kit.test_serving import restore_metrics_mode  # noqa: F401  # a fixture

# Start-up imports the whole service (twice under Granian: supervisor, then worker); a busy
# two-core machine has taken over 30 s.
STARTUP_TIMEOUT_SECONDS = 90
REQUESTS = 40
serving_module = importlib.import_module("apiforge.kit.serving.uvicorn_server")
# The signals Uvicorn's supervisor takes over (restored after the test that builds one).
SUPERVISOR_SIGNALS = [
    getattr(signal, f"SIG{name}")
    for name in ("INT", "TERM", "HUP", "QUIT", "TTIN", "TTOU", "USR1", "USR2", "WINCH")
]


def _apiforge(*args: str) -> list[str]:
    return [sys.executable, "-m", "apiforge", *args]


@pytest.mark.usefixtures("clean_env")
def test_serve_refuses_production_without_secret() -> None:
    # In process: settings are checked before uvicorn.run, so nothing binds or blocks.
    code, out, err = invoke(
        ["serve", "--port", str(free_port())], {"APIFORGE_ENVIRONMENT": "production"}
    )
    assert code == 2
    assert out == ""
    assert err.startswith("apiforge: invalid settings: APIFORGE_SECRET_KEY must be set")
    assert err.count("\n") == 1


def _wait_until_live(url: str, process: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}")
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("server did not answer in time")


# What each server logs last on a clean stop.
STOPPED = {"uvicorn": "Application shutdown complete", "granian": "Granian shutdown completed"}


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_serve_answers_and_stops_cleanly(
    server: str, clean_env: dict[str, str], sqlite_url: str
) -> None:
    port = free_port()
    env = clean_env | {
        "APIFORGE_ENVIRONMENT": "development",
        "APIFORGE_DATABASE_URL": sqlite_url,
        "APIFORGE_SERVER__BACKEND": server,
    }
    process = subprocess.Popen(  # noqa: S603  # our own interpreter and arguments
        _apiforge("serve", "--port", str(port)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        response = _wait_until_live(f"http://127.0.0.1:{port}/health/live", process)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert response.status_code == 200
    # Uvicorn is told not to name itself; Granian 2.8 always sends `server: granian` and has no
    # setting to stop it (Granian issue #594): one reason Uvicorn stays the default.
    assert response.headers.get("server") == (None if server == "uvicorn" else "granian")
    assert process.returncode == 0
    assert STOPPED[server] in output


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
@pytest.mark.parametrize(("allowed", "trusted"), [("127.0.0.1", True), ("192.0.2.1", False)])
def test_proxy_headers_name_the_client_only_through_a_trusted_proxy(
    server: str, allowed: str, trusted: bool, clean_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    env = clean_env | {
        "APIFORGE_ENVIRONMENT": "development",
        "APIFORGE_TEST_MARKERS": str(tmp_path),
        "FORWARDED_ALLOW_IPS": allowed,
    }
    command = serve_command(
        "--app", SLOW_APP, "--server", server, "--port", str(port), "--proxy-headers"
    )
    forwarded = {"x-forwarded-for": "203.0.113.7", "x-forwarded-proto": "https"}
    with running(command, env, tmp_path / "server.log", port) as running_server:
        seen = httpx.get(f"{running_server.base_url}/whoami", headers=forwarded).json()
    # The test's own client is 127.0.0.1: trusted, its forwarding headers are applied.
    expected = {"client": "203.0.113.7", "scheme": "https"}
    assert seen == (expected if trusted else {"client": "127.0.0.1", "scheme": "http"})


def _ready_count(samples: Samples) -> float:
    labels = frozenset({"method": "GET", "route": "/health/ready", "status": "200"}.items())
    return samples.get(("apiforge_http_requests_total", labels), 0.0)


@pytest.mark.parametrize(
    ("server_name", "workers"), [("uvicorn", 1), ("uvicorn", 2), ("granian", 1), ("granian", 2)]
)
def test_serve_sums_the_workers_metrics_on_the_metrics_port(
    server_name: str, workers: int, clean_env: dict[str, str], sqlite_url: str, tmp_path: Path
) -> None:
    env = clean_env | {
        "APIFORGE_ENVIRONMENT": "production",
        "APIFORGE_SECRET_KEY": PRODUCTION_KEY,
        "APIFORGE_DATABASE_URL": sqlite_url,
    }
    assert invoke(["db", "upgrade"], env)[0] == 0
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    # A file left by an earlier run's worker: unreadable, so counting it would break the scrape.
    stale = metrics_dir / "counter_1.db"
    stale.write_bytes(b"stale")
    port, metrics_port = free_port(), free_port()
    env |= {
        "APIFORGE_METRICS__PORT": str(metrics_port),
        "APIFORGE_METRICS__MULTIPROC_DIR": str(metrics_dir),
    }
    command = serve_command("--port", str(port), "--workers", str(workers), "--server", server_name)
    with running(command, env, tmp_path / "serve.log", port) as server:
        for _ in range(REQUESTS):  # each on a fresh connection: spread over the workers
            assert httpx.get(f"{server.base_url}/health/ready", timeout=10).status_code == 200
        # Not on the main port in production once it has a port of its own.
        assert httpx.get(f"{server.base_url}/metrics", timeout=10).status_code == 404
        # A worker counts a request just after its last byte went out: let the count land.
        assert wait_for(lambda: _ready_count(scrape(metrics_port)) >= REQUESTS, within=10)
        samples = scrape(metrics_port)
        code = server.stop()

    assert not stale.exists()
    assert _ready_count(samples) == REQUESTS
    build_info = [key for key in samples if key[0] == "apiforge_build_info"]
    assert len(build_info) == workers  # one series per live worker, by pid
    assert code == 0
    events = server.events()  # every line JSON, the supervisor's and the server's included
    if server_name == "uvicorn":
        assert events.count("Application shutdown complete.") == workers
    else:
        assert sum(1 for event in events if event.startswith("Stopped worker-")) == workers


@pytest.mark.usefixtures("restore_metrics_mode")
def test_serve_options_and_settings_reach_uvicorn(
    clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[uvicorn.Config, Path | None]] = []

    def run(config: uvicorn.Config, path: Path | None) -> bool:
        started.append((config, path))
        return True

    monkeypatch.setattr(serving_module, "_run", run)
    env = clean_env | {
        "APIFORGE_ENVIRONMENT": "development",
        "APIFORGE_SERVER__BACKEND": "uvicorn",
        "APIFORGE_SERVER__WORKERS": "3",
        "APIFORGE_SERVER__KEEPALIVE_SECONDS": "7.5",
        "APIFORGE_SERVER__WORKER_TIMEOUT_SECONDS": "40",
    }
    assert invoke(["serve", "--drain-timeout", "12.5", "--port", "8123"], env)[0] == 0
    ((config, metrics_dir),) = started
    assert (config.host, config.port, config.workers) == ("127.0.0.1", 8123, 3)
    # Whole seconds, rounded up: never less time than asked for.
    assert config.timeout_graceful_shutdown == 13
    assert config.timeout_keep_alive == 8
    assert config.timeout_worker_healthcheck == 40
    assert config.log_config is None
    assert config.access_log is False
    assert config.lifespan == "on"  # a failing lifespan stops the server
    assert metrics_dir is not None
    assert not metrics_dir.exists()  # the temporary directory went with the server


def _serve_the_broken_app(
    server: str, clean_env: dict[str, str], sqlite_url: str
) -> subprocess.CompletedProcess[str]:
    """`apiforge serve` on `server` with an app whose start-up hook raises, run to its exit."""
    env = clean_env | {"APIFORGE_ENVIRONMENT": "production", "APIFORGE_SECRET_KEY": PRODUCTION_KEY}
    return subprocess.run(  # noqa: S603  # our own interpreter and arguments
        _apiforge(
            "serve",
            "--server",
            server,
            "--port",
            str(free_port()),
            "--app",
            "tests.cli.broken_app:create_app",
        ),
        env=env | {"APIFORGE_DATABASE_URL": sqlite_url, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_a_service_that_fails_to_start_exits_with_one_line(
    clean_env: dict[str, str], sqlite_url: str
) -> None:
    """The lifespan runs with `lifespan="on"`: a start-up hook that raises stops the server
    (exit 3) instead of Uvicorn's "lifespan unsupported" and a 500 on every request."""
    done = _serve_the_broken_app("uvicorn", clean_env, sqlite_url)
    assert done.returncode == 3
    events = [json.loads(line)["event"] for line in done.stderr.splitlines()]
    # One line that says what is wrong (Uvicorn's traceback follows it), then the exit.
    assert "apiforge did not start: RuntimeError: the warehouse feed is not configured" in events
    assert events[-1] == "Application startup failed. Exiting."
    assert "Application startup complete." not in events


@pytest.mark.usefixtures("restore_metrics_mode")
def test_serve_options_and_settings_reach_granian(
    clean_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[KitGranian] = []
    monkeypatch.setattr(KitGranian, "serve", lambda self: started.append(self))
    env = clean_env | {
        "APIFORGE_ENVIRONMENT": "development",
        "APIFORGE_SERVER__BACKEND": "granian",
        "APIFORGE_SERVER__WORKERS": "3",
        "APIFORGE_SERVER__HEADER_READ_TIMEOUT_SECONDS": "2.5",
        "APIFORGE_SERVER__BACKPRESSURE": "64",
    }
    assert invoke(["serve", "--drain-timeout", "12.5", "--port", "8123"], env)[0] == 0
    (server,) = started
    assert (server.bind_addr, server.bind_port, server.workers) == ("127.0.0.1", 8123, 3)
    assert server.http1_settings is not None
    assert server.http1_settings.header_read_timeout == 2500
    assert server.backpressure == 64
    # The drain, then time for the lifespan to close the pools, before the kill.
    assert server.workers_kill_timeout == 13 + LIFESPAN_CLOSE_SECONDS
    assert server.respawn_failed_workers
    assert server.log_access is False
    assert server.metrics_dir is not None


def test_granian_exits_with_one_line_when_the_service_fails_to_start(
    clean_env: dict[str, str], sqlite_url: str
) -> None:
    done = _serve_the_broken_app("granian", clean_env, sqlite_url)
    assert done.returncode == 3
    lines = [line for line in done.stderr.splitlines() if line.startswith("{")]
    events = [json.loads(line)["event"] for line in lines]
    assert "apiforge did not start: RuntimeError: the warehouse feed is not configured" in events
