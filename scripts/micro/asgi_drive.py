"""Drives an ASGI app in process with GET requests and returns the CPU µs per request: no
server, no sockets, so the figure is the app's own work. Shared by the micro scripts."""

import asyncio
import time
from collections.abc import Sequence
from typing import Any


async def drive(
    app: Any,
    path: str,
    number: int,
    *,
    headers: Sequence[tuple[bytes, bytes]] = (),
    per_iteration: int | None = None,
) -> float:
    """`number` GETs of `path`, each with a fresh scope (headers list, state). With
    `per_iteration`, the loop gets control after that many requests, as a loaded server's
    does (what the batched access log writes on); otherwise never."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1234), "server": ("bench", 80),
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    start = time.process_time()  # CPU time: the machine may be shared
    for i in range(number):
        await app(dict(scope, headers=list(headers), state={}), receive, send)
        if per_iteration and i % per_iteration == per_iteration - 1:
            await asyncio.sleep(0)
    return (time.process_time() - start) / number * 1e6
