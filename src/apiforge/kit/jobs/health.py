"""The worker's own probe port: `GET /health/live` (the event loop answers), `/health/ready`
(the broker is connected and the worker is taking jobs, 503 while it drains) and `/metrics`.
A few lines of HTTP/1.0 on asyncio's server rather than a web framework: a worker serves no
API, and its probes must keep answering while its jobs hold the loop's attention. Not for: the
API's probes (kit.health)."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

_READ_TIMEOUT = 5.0
_MAX_REQUEST_LINE = 8192


@dataclass
class WorkerHealth:
    """What the probes report; the worker flips `ready` on once its broker is up and off when
    it starts draining. `before_scrape` refreshes sampled gauges (queue depth)."""

    registry: CollectorRegistry
    ready: bool = False
    before_scrape: Callable[[], Awaitable[None]] | None = None
    _server: asyncio.Server | None = field(default=None, repr=False)

    async def start(self, host: str, port: int) -> int:
        """Listens; returns the bound port (0 picks a free one)."""
        self._server = await asyncio.start_server(self._answer, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_READ_TIMEOUT):
                line = await reader.readline()
                while (await reader.readline()).strip():
                    pass  # headers: none matter here
            status, content_type, body = await self._route(line[:_MAX_REQUEST_LINE])
        except (TimeoutError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            writer.close()
            return
        head = (
            f"HTTP/1.0 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        try:
            writer.write(head.encode() + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _route(self, line: bytes) -> tuple[str, str, bytes]:
        parts = line.decode("latin-1").split()
        if len(parts) < 2 or parts[0] not in ("GET", "HEAD"):
            return "405 Method Not Allowed", "text/plain", b"method not allowed\n"
        path = parts[1].split("?", 1)[0]
        if path == "/health/live":
            return "200 OK", "application/json", b'{"status":"ok"}'
        if path == "/health/ready":
            if self.ready:
                return "200 OK", "application/json", b'{"status":"ready"}'
            return "503 Service Unavailable", "application/json", b'{"status":"not ready"}'
        if path == "/metrics":
            if self.before_scrape is not None:
                await self.before_scrape()
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(self.registry)
        return "404 Not Found", "text/plain", b"not found\n"
