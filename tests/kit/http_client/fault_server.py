"""An HTTP/1.1 fault server on loopback for the outbound client's tests: each path is a fault.
It runs its own event loop in a thread, so it keeps misbehaving whatever the test's loop does.

    /ok                  200 "ok"
    /latency/MS          200 after MS milliseconds
    /hang                reads the request, never answers
    /reset               reads the request, resets the connection (RST)
    /status/CODE         that status; `?retry_after=V` adds a Retry-After header
    /burst/N/KEY         503 for the first N requests of KEY, then 200
    /slow-body/MS        headers at once, then one byte every MS milliseconds (64 bytes)
    /big/N               200 with an N-byte body
    /redirect            302 to /ok

`hits[path]` counts requests per path (query excluded); `times[path]` records when each came.
"""

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections import Counter, defaultdict
from types import TracebackType
from typing import Self


class FaultServer:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.times: defaultdict[str, list[float]] = defaultdict(list)
        self.headers: list[dict[str, str]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        self.port = future.result(5)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _stop(self) -> None:
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            self._server.close()
        # Handlers still hanging or trickling a body are cancelled, not left pending at close.
        handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(ConnectionError, RuntimeError):
                writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        target = lines[0].split(" ")[1]
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        length = int(headers.get("content-length", "0"))
        if length:
            await reader.readexactly(length)
        path, _, query = target.partition("?")
        self.hits[path] += 1
        self.times[path].append(time.monotonic())
        self.headers.append(headers)
        return await self._answer(path, query, writer)

    async def _answer(self, path: str, query: str, writer: asyncio.StreamWriter) -> bool:
        parts = path.strip("/").split("/")
        kind, args = parts[0], parts[1:]
        if kind in ("hang", "reset", "latency"):
            return await _stall(kind, args, writer)
        if kind == "status":
            extra = ""
            if query.startswith("retry_after="):
                extra = f"Retry-After: {query.split('=', 1)[1]}\r\n"
            await _send(writer, int(args[0]), b"status", extra)
            return True
        if kind == "burst":
            status = 503 if self.hits[path] <= int(args[0]) else 200
            await _send(writer, status, b"burst")
            return True
        if kind == "slow-body":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n")
            for _ in range(64):
                await writer.drain()
                await asyncio.sleep(int(args[0]) / 1000)
                writer.write(b"x")
            await writer.drain()
            return True
        return await _plain(kind, args, writer)


async def _plain(kind: str, args: list[str], writer: asyncio.StreamWriter) -> bool:
    if kind == "big":
        await _send(writer, 200, b"y" * int(args[0]))
    elif kind == "redirect":
        await _send(writer, 302, b"", "Location: /ok\r\n")
    else:
        await _send(writer, 200, b"ok")
    return True


async def _stall(kind: str, args: list[str], writer: asyncio.StreamWriter) -> bool:
    if kind == "hang":
        await asyncio.sleep(3600)
    if kind == "reset":
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        return False
    await asyncio.sleep(int(args[0]) / 1000)
    await _send(writer, 200, b"ok")
    return True


async def _send(writer: asyncio.StreamWriter, status: int, body: bytes, extra: str = "") -> None:
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    writer.write(head.encode() + body)
    await writer.drain()
