"""The request-header deadline on real server processes (`apiforge serve --server ...`, the
deadline set to 1 s): a client that sends its headers too slowly is closed within the deadline
(Uvicorn answers 408 first: the kit's protocol). Under Uvicorn a request whose headers came in
time is served however long its connection then idled under the keep-alive timeout, and the
next request on that connection gets its own deadline; Granian (hyper) counts a kept-alive
connection's idle time into the next request's deadline, so there the header deadline is also
the keep-alive bound (settings.server says so)."""

import socket
import time
from pathlib import Path

import pytest

from apiforge.bench.targets import free_port
from tests.cli.conftest import PRODUCTION_KEY
from tests.cli.servers import SLOW_APP, running, serve_command

DEADLINE = 1
# Loaded machine: the close may come a little after the deadline, never near the keep-alive's.
MARGIN = 3.0


def _read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, float]:
    started = time.monotonic()
    sock.settimeout(within)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received, time.monotonic() - started


def _read_response(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionResetError("closed before an answer")
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_slow_headers_are_cut_and_kept_alive_connections_are_not(
    server: str, clean_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    markers = tmp_path / "markers"
    markers.mkdir()
    env = clean_env | {
        "APIFORGE_ENVIRONMENT": "production",
        "APIFORGE_SECRET_KEY": PRODUCTION_KEY,
        "APIFORGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}",
        "APIFORGE_TEST_MARKERS": str(markers),
        "APIFORGE_SERVER__HEADER_READ_TIMEOUT_SECONDS": str(DEADLINE),
        "APIFORGE_SERVER__KEEPALIVE_SECONDS": "10",
    }
    command = serve_command("--app", SLOW_APP, "--server", server, "--port", str(port))
    with running(command, env, tmp_path / "server.log", port):
        with socket.create_connection(("127.0.0.1", port)) as slow:
            slow.sendall(b"GET /health/live HTTP/1.1\r\nhost: x\r\n")
            answer, took = _read_until_closed(slow, DEADLINE + MARGIN + 5)
        assert took <= DEADLINE + MARGIN
        if server == "uvicorn":
            assert answer.startswith(b"HTTP/1.1 408 ")

        with socket.create_connection(("127.0.0.1", port)) as kept:
            kept.sendall(b"GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n")
            assert _read_response(kept).startswith(b"HTTP/1.1 200")
            if server == "granian":
                _, took = _read_until_closed(kept, DEADLINE + MARGIN + 5)
                assert took <= DEADLINE + MARGIN
                return
            time.sleep(DEADLINE + 1)  # idle past the header deadline, within the keep-alive
            kept.sendall(b"GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n")
            assert _read_response(kept).startswith(b"HTTP/1.1 200")
            kept.sendall(b"GET /health/live HTTP/1.1\r\n")  # the next one, too slow
            _, took = _read_until_closed(kept, DEADLINE + MARGIN + 5)
        assert took <= DEADLINE + MARGIN
