"""The open-loop generator measures from each request's intended start, so a server that
falls behind shows its queue in the latencies (no coordinated omission)."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from apiforge.bench.openloop import run_open_loop, summarize
from apiforge.bench.scenario import ConcreteRequest
from apiforge.bench.targets import free_port

SERVICE_S = 0.02  # the fake server handles one request at a time, 20 ms each: 50 req/s
MIX = [ConcreteRequest("slow", "GET", "/slow", None)]


async def _serve(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, lock: asyncio.Lock
) -> None:
    try:
        while await reader.readuntil(b"\r\n\r\n"):
            async with lock:
                await asyncio.sleep(SERVICE_S)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def slow_server() -> AsyncIterator[str]:
    lock = asyncio.Lock()
    server = await asyncio.start_server(lambda r, w: _serve(r, w, lock), "127.0.0.1", free_port())
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


async def test_below_capacity_latency_is_the_service_time(slow_server: str) -> None:
    result = await run_open_loop(slow_server, MIX, rate=20, duration=0.5, connections=4)
    assert result.sent == 10
    assert result.ok == 10
    assert SERVICE_S * 1000 <= result.latency_ms["p50"] < 100


async def test_over_capacity_the_queue_counts(slow_server: str) -> None:
    # 100 req/s offered to a 50 req/s server for 1 s: request i waits for the i before it,
    # ~10 ms x i; a closed loop would have reported ~20 ms for every request.
    result = await run_open_loop(slow_server, MIX, rate=100, duration=1.0, connections=4)
    assert result.sent == 100
    assert result.latency_ms["p50"] > 300
    assert result.latency_ms["max"] > 800
    assert result.per_endpoint["slow"]["p99"] == result.latency_ms["p99"]
    assert result.statuses == {"200": 100}


async def test_no_answer_is_an_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens
    result = await run_open_loop(url, MIX, rate=50, duration=0.1, connections=1)
    assert result.errors == result.sent == 5
    assert result.statuses == {"error": 5}
    assert result.error_rate == 1.0


def test_a_late_generator_says_so() -> None:
    result = summarize([], rate=100, duration=1, late=5, max_lag_s=0.2)
    assert result.fell_behind
    assert result.max_dispatch_lag_ms == 200
    assert result.error_rate == 1.0  # nothing sent is nothing measured
