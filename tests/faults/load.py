"""An open-loop load driver for fault tests: requests start on a fixed schedule whatever the
answers do (a closed loop would slow down with the server and hide the fault), and every one
is logged (send time, route, status, latency, error class) so that tests can count outcomes
per 1 s window instead of trusting one tight timing."""

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx

# A request the driver sends: a route name for the log, and how to send it.
Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
Pick = Callable[[int], tuple[str, Send]]
REQUEST_TIMEOUT = 15.0


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


async def _one(client: httpx.AsyncClient, route: str, send: Send, due: float) -> Outcome:
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            response = await send(client)
    except (httpx.HTTPError, TimeoutError) as exc:
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


async def open_loop(
    client: httpx.AsyncClient, pick: Pick, *, rate: float, seconds: float
) -> list[Outcome]:
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


async def burst(client: httpx.AsyncClient, pick: Pick, count: int) -> list[Outcome]:
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
