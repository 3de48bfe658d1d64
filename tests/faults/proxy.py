"""A TCP fault proxy on loopback, between the code under test and PostgreSQL or Redis, switched
at runtime: pass, added latency, blackhole, reset, close after N bytes. It runs its own event
loop in a thread, so it keeps forwarding (or not) whatever the test's own loop is doing.

toxiproxy and netem are not available here; this is the few faults the tests need, no more.
"""

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self, TypeVar

T = TypeVar("T")
Kind = Literal["pass", "latency", "blackhole", "reset", "close_after"]
CHUNK = 65536
CONTROL_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Fault:
    """What the proxy does to every connection, open or new. `seconds`: the latency added to
    each chunk in each direction. `limit`: the bytes a connection may still carry (both
    directions together) before it is closed."""

    kind: Kind
    seconds: float = 0.0
    limit: int = 0


PASS = Fault("pass")
# Accepts and never forwards: like a network partition, bytes wait (TCP would retransmit), and
# flow again in order if the proxy is switched back.
BLACKHOLE = Fault("blackhole")
# Every open connection and every new one is reset (RST) on both sides.
RESET = Fault("reset")


def latency(seconds: float) -> Fault:
    return Fault("latency", seconds=seconds)


def close_after(limit: int) -> Fault:
    return Fault("close_after", limit=limit)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Closes with an RST instead of a FIN (SO_LINGER 0)."""
    if writer.transport.is_closing():
        return
    sock = writer.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass  # already gone: nothing left to reset
    writer.transport.abort()


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, client: asyncio.StreamWriter, budget: int | None) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.budget = budget  # bytes left under close_after
        self.closed = False

    def writers(self) -> list[asyncio.StreamWriter]:
        return [w for w in (self.client, self.upstream) if w is not None]

    def close(self, *, reset: bool = False) -> None:
        self.closed = True
        for writer in self.writers():
            if reset:
                _abort(writer)
            elif not writer.transport.is_closing():
                writer.close()


class FaultProxy:
    """`with FaultProxy(upstream_port) as proxy:` listens on `proxy.port`; `proxy.set(...)`
    switches the fault for open and new connections alike."""

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.accepted = 0
        self._fault = PASS
        self._links: set[_Link] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy")
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None
        # Strong references: asyncio keeps only weak ones to running tasks (and the streams
        # drop theirs when a connection is lost), so an unreferenced task may vanish mid-way.
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def fault(self) -> Fault:
        return self._fault

    def __enter__(self) -> Self:
        self._thread.start()
        self._call(self._start())
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        try:
            self._call(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(CONTROL_TIMEOUT)
            self._loop.close()

    def set(self, fault: Fault) -> None:
        """Applies `fault` now; returns once open connections are under it."""
        self._call(self._apply(fault))

    def _call(self, coroutine: Coroutine[object, object, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CONTROL_TIMEOUT)

    def _spawn(self, coroutine: Coroutine[object, object, None]) -> "asyncio.Task[None]":
        task = self._loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _budget(self) -> int | None:
        return self._fault.limit if self._fault.kind == "close_after" else None

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(
            lambda reader, writer: self._spawn(self._accept(reader, writer)), "127.0.0.1", 0
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for link in list(self._links):
            link.close(reset=True)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _apply(self, fault: Fault) -> None:
        assert self._flowing is not None
        self._fault = fault
        if fault.kind == "blackhole":
            self._flowing.clear()
        else:
            self._flowing.set()
        for link in list(self._links):
            link.budget = self._budget()
            if fault.kind == "reset":
                link.close(reset=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        link = _Link(writer, self._budget())
        if self._fault.kind == "reset":
            link.close(reset=True)
            return
        self._links.add(link)
        assert self._flowing is not None
        try:
            await self._flowing.wait()  # a blackhole connects upstream only once it lifts
            if link.closed:
                return
            up_reader, link.upstream = await asyncio.open_connection(*self.upstream)
            await asyncio.gather(
                self._pump(link, reader, link.upstream), self._pump(link, up_reader, writer)
            )
        except OSError:
            link.close(reset=True)
        finally:
            link.close()
            self._links.discard(link)

    async def _pump(
        self, link: _Link, source: asyncio.StreamReader, target: asyncio.StreamWriter
    ) -> None:
        """Reads into a queue stamped with arrival times while a second task writes each chunk
        once its latency is due, so that added latency does not pile up under pipelining."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        deliver = self._spawn(self._deliver(link, queue, target))
        try:
            while not link.closed:
                assert self._flowing is not None
                await self._flowing.wait()
                try:
                    data = await source.read(CHUNK)
                except OSError:
                    data = b""
                queue.put_nowait((time.monotonic(), data))
                if not data:
                    break
            await deliver
        finally:
            deliver.cancel()

    async def _deliver(
        self, link: _Link, queue: "asyncio.Queue[tuple[float, bytes]]", target: asyncio.StreamWriter
    ) -> None:
        while True:
            arrived, data = await queue.get()
            if link.closed or target.transport.is_closing():
                return
            if not data:
                if target.can_write_eof():
                    target.write_eof()
                return
            assert self._flowing is not None
            await self._flowing.wait()
            if self._fault.kind == "latency":
                await asyncio.sleep(max(0.0, arrived + self._fault.seconds - time.monotonic()))
            if link.budget is not None:
                data = data[: link.budget]
                link.budget -= len(data)
            if link.closed or target.transport.is_closing():
                return
            target.write(data)
            try:
                await target.drain()
            except OSError:
                link.close(reset=True)
                return
            if link.budget == 0:
                link.close()
                return
