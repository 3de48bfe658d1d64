"""An open-loop load driver for fault tests: requests start on a fixed schedule whatever the
answers do (a closed loop would slow down with the server and hide the fault), and every one
is logged (send time, route, status, latency, error class) so that tests can count outcomes
per 1 s window instead of trusting one tight timing. Requests go through `FreshConnections`, one
connection each, as many independent clients would send them."""

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx
import orjson

REQUEST_TIMEOUT = 15.0


class Requester(Protocol):
    """What a request of the driver may call: `FreshConnections`, or an `httpx.AsyncClient`."""

    async def get(self, url: str, *, headers: dict[str, str] | None = None) -> httpx.Response: ...

    async def post(
        self, url: str, *, json: object = None, headers: dict[str, str] | None = None
    ) -> httpx.Response: ...


# A request the driver sends: a route name for the log, and how to send it.
Send = Callable[[Requester], Awaitable[httpx.Response]]
Pick = Callable[[int], tuple[str, Send]]


class FreshConnections:
    """HTTP/1.1 over a new connection per request (`Connection: close`, the answer read to
    EOF). Why not httpx: its pool does work proportional to its open connections on every
    request, which at 200 requests at once adds seconds of the client's own to each latency."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    async def get(self, url: str, *, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self._request("GET", url, headers or {}, b"")

    async def post(
        self, url: str, *, json: object = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        body = orjson.dumps(json)
        return await self._request(
            "POST", url, {"content-type": "application/json", **(headers or {})}, body
        )

    async def _request(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> httpx.Response:
        lines = [f"{method} {url} HTTP/1.1", f"host: {self.host}:{self.port}"]
        lines += ["connection: close", f"content-length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write("\r\n".join([*lines, "", ""]).encode("latin-1") + body)
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        head, separator, content = raw.partition(b"\r\n\r\n")
        if not separator:
            raise httpx.RemoteProtocolError("the server closed the connection without an answer")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        fields = [(name, value) for name, _, value in (h.partition(": ") for h in header_lines)]
        return httpx.Response(int(status_line.split(" ", 2)[1]), headers=fields, content=content)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One request. `sent` is `time.monotonic()` when it was due; `status` is None when no
    HTTP answer came (then `error` names the exception class)."""

    route: str
    sent: float
    latency: float
    status: int | None
    error: str | None = None
    content_type: str = ""
    code: str | None = None  # problem+json `code`
    retry_after: str | None = None
    traceback: bool = False  # the body mentions a traceback

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 400


async def _one(client: Requester, route: str, send: Send, due: float) -> Outcome:
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            response = await send(client)
    except (httpx.HTTPError, OSError) as exc:  # TimeoutError is an OSError
        return Outcome(route, due, time.monotonic() - due, None, type(exc).__name__)
    latency = time.monotonic() - due
    content_type = response.headers.get("content-type", "")
    code = None
    if content_type == "application/problem+json":
        code = response.json().get("code")
    return Outcome(
        route,
        due,
        latency,
        response.status_code,
        content_type=content_type,
        code=code,
        retry_after=response.headers.get("retry-after"),
        traceback="Traceback" in response.text,
    )


async def open_loop(client: Requester, pick: Pick, *, rate: float, seconds: float) -> list[Outcome]:
    """`rate` requests a second for `seconds`, request `i` being `pick(i)`; returns once every
    one has answered or failed (each is bounded by REQUEST_TIMEOUT)."""
    started = time.monotonic()
    tasks = []
    for i in range(math.ceil(rate * seconds)):
        due = started + i / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        route, send = pick(i)
        tasks.append(asyncio.create_task(_one(client, route, send, due)))
    return list(await asyncio.gather(*tasks))


async def burst(client: Requester, pick: Pick, count: int) -> list[Outcome]:
    """`count` requests sent at once (`pick(i)` each), every latency counted from then."""
    due = time.monotonic()
    return list(await asyncio.gather(*(_one(client, *pick(i), due) for i in range(count))))


def between(outcomes: Iterable[Outcome], start: float, end: float) -> list[Outcome]:
    """The requests sent in [start, end)."""
    return [o for o in outcomes if start <= o.sent < end]


def windows(
    outcomes: Iterable[Outcome], origin: float, width: float = 1.0
) -> dict[int, list[Outcome]]:
    """Requests by the `width`-second window they were sent in, counted from `origin`."""
    by_window: dict[int, list[Outcome]] = {}
    for outcome in outcomes:
        by_window.setdefault(math.floor((outcome.sent - origin) / width), []).append(outcome)
    return dict(sorted(by_window.items()))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` 0.99 for p99); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def p99(outcomes: Iterable[Outcome]) -> float:
    return percentile([o.latency for o in outcomes], 0.99)


def statuses(outcomes: Iterable[Outcome]) -> dict[str, int]:
    """How many requests ended each way: "200", "503", ... or the error class."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        key = str(outcome.status) if outcome.status is not None else str(outcome.error)
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))
