"""Oversized bodies against a real uvicorn server, sent by clients that do not wait for
`100 Continue` (Python's http.client, as `requests` and many SDKs): each reads the 413
problem instead of a connection reset, a chunked body is cut too, a client that does send
`Expect: 100-continue` gets the 413 before sending anything, the worker's memory stays flat and
the liveness probe keeps answering."""

import http.client
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import live_shop_server, scratch_database

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("lingering")
    with scratch_database("sqlite", directory, None) as url, live_shop_server(url) as base_url:
        yield base_url


def _port(base_url: str) -> int:
    return int(base_url.rsplit(":", 1)[1])


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    block = b"x" * size
    for _ in range(total // size):
        yield block


def _post(
    base_url: str, body: bytes | Iterator[bytes], *, chunked: bool
) -> tuple[int, bytes, float]:
    """POST with http.client (no Expect header): the status, body and seconds until the
    answer was read."""
    connection = http.client.HTTPConnection("127.0.0.1", _port(base_url), timeout=30)
    headers = {"Content-Type": "application/json"}
    started = time.monotonic()
    try:
        connection.request(
            "POST", "/api/orders", body=body, headers=headers, encode_chunked=chunked
        )
        response = connection.getresponse()
        return response.status, response.read(), time.monotonic() - started
    finally:
        connection.close()


def _rss_kib(base_url: str) -> int:
    """The serving process's resident memory (the one listening on the port)."""
    pid = _listener_pid(_port(base_url))
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _listener_pid(port: int) -> int:
    inode = next(
        line.split()[9]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[1].endswith(f":{port:04X}") and line.split()[3] == "0A"
    )
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if fd.readlink().name == f"socket:[{inode}]":
                return int(fd.parts[2])
        except OSError:
            continue
    raise AssertionError(f"nobody listens on {port}")


@pytest.mark.parametrize("megabytes", [20, 100])
def test_a_client_that_sends_it_all_reads_the_413(server: str, megabytes: int) -> None:
    status, body, seconds = _post(server, b"x" * (megabytes * MIB), chunked=False)
    assert status == 413
    assert b'"code":"request.too_large"' in body
    assert seconds < 1.0


def test_a_chunked_body_is_cut_at_the_limit(server: str) -> None:
    status, body, _ = _post(server, _chunks(100 * MIB), chunked=True)
    assert status == 413
    assert b'"code":"request.too_large"' in body


def test_expect_continue_gets_the_413_before_the_body(server: str) -> None:
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=5) as raw:
        raw.sendall(
            b"POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\nExpect: 100-continue\r\n\r\n"
        )
        answer = raw.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"100 Continue" not in answer


def test_memory_stays_flat_and_liveness_answers_during_the_attack(server: str) -> None:
    before = _rss_kib(server)
    latencies: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=server, timeout=5) as client:
            while not stop.is_set():
                started = time.monotonic()
                assert client.get("/health/live").status_code == 200
                latencies.append(time.monotonic() - started)
                time.sleep(0.01)

    # Made once: building 100 MB holds this process's GIL for tens of milliseconds, which the
    # probe thread would measure as the server's latency.
    body = b"x" * (100 * MIB)
    prober = threading.Thread(target=probe)
    prober.start()
    try:
        # Long enough for a p99 of a hundred or more probes, not the slowest of a dozen.
        for _ in range(8):
            assert _post(server, body, chunked=False)[0] == 413
            assert _post(server, _chunks(50 * MIB), chunked=True)[0] == 413
    finally:
        stop.set()
        prober.join(timeout=10)
    grown_mib = (_rss_kib(server) - before) / 1024
    p99 = statistics.quantiles(latencies, n=100)[98]
    print(
        f"RSS grew {grown_mib:.1f} MiB; /health/live p99 {p99 * 1000:.1f} ms over {len(latencies)}"
    )
    assert grown_mib <= 20
    assert p99 <= 0.1
