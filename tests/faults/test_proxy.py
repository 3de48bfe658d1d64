"""The fault proxy itself, in front of the real Redis: each fault does what the fault tests rely
on, on connections already open and on new ones."""

import asyncio
import time
from collections.abc import Iterator

import pytest

from tests.faults.proxy import BLACKHOLE, PASS, RESET, FaultProxy, close_after, latency

PING, PONG = b"PING\r\n", b"+PONG\r\n"


@pytest.fixture
def proxy(redis_url: str) -> Iterator[FaultProxy]:
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    with FaultProxy(port) as running:
        yield running


async def connect(proxy: FaultProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", proxy.port)


async def ping(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(PING)
    await writer.drain()
    return await reader.readexactly(len(PONG))


async def test_pass_and_added_latency(proxy: FaultProxy) -> None:
    reader, writer = await connect(proxy)
    try:
        assert await ping(reader, writer) == PONG
        proxy.set(latency(0.2))
        started = time.monotonic()
        assert await ping(reader, writer) == PONG
        assert 0.4 <= time.monotonic() - started < 1.5  # 0.2 s each way
    finally:
        writer.close()


async def test_a_blackhole_holds_the_bytes_until_it_lifts(proxy: FaultProxy) -> None:
    reader, writer = await connect(proxy)
    try:
        assert await ping(reader, writer) == PONG
        proxy.set(BLACKHOLE)
        new_reader, new_writer = await connect(proxy)  # accepted, never forwarded
        answers = [asyncio.create_task(ping(reader, writer))]
        answers.append(asyncio.create_task(ping(new_reader, new_writer)))
        done, _ = await asyncio.wait(answers, timeout=0.3)
        assert not done
        proxy.set(PASS)
        assert await asyncio.wait_for(asyncio.gather(*answers), 5) == [PONG, PONG]
        new_writer.close()
    finally:
        writer.close()


async def test_reset_resets_open_and_new_connections(proxy: FaultProxy) -> None:
    reader, writer = await connect(proxy)
    assert await ping(reader, writer) == PONG
    proxy.set(RESET)
    with pytest.raises(ConnectionResetError):
        await ping(reader, writer)
    writer.close()

    async def new_connection() -> bytes:
        new_reader, new_writer = await connect(proxy)
        try:
            return await ping(new_reader, new_writer)
        finally:
            new_writer.close()

    # Reset as soon as accepted: the connect itself may already see it.
    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
        await new_connection()


async def test_close_after_n_bytes(proxy: FaultProxy) -> None:
    reader, writer = await connect(proxy)
    try:
        proxy.set(close_after(len(PING) + 3))
        writer.write(PING)
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 5) == PONG[:3]  # then EOF
    finally:
        writer.close()
    assert proxy.accepted == 1
