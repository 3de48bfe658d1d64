"""`apiforge serve`: refused with one line when misconfigured; otherwise a real process (the
module entry point, Uvicorn with uvloop and httptools) that answers and exits cleanly on SIGINT."""

import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.cli.conftest import invoke

STARTUP_TIMEOUT_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _apiforge(*args: str) -> list[str]:
    return [sys.executable, "-m", "apiforge", *args]


@pytest.mark.usefixtures("clean_env")
def test_serve_refuses_production_without_secret() -> None:
    # In process: settings are checked before uvicorn.run, so nothing binds or blocks.
    code, out, err = invoke(
        ["serve", "--port", str(_free_port())], {"APIFORGE_ENVIRONMENT": "production"}
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


def test_serve_answers_and_stops_cleanly(clean_env: dict[str, str], sqlite_url: str) -> None:
    port = _free_port()
    env = clean_env | {"APIFORGE_ENVIRONMENT": "development", "APIFORGE_DATABASE_URL": sqlite_url}
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
    assert "server" not in response.headers
    assert process.returncode == 0
    assert "Application shutdown complete" in output
