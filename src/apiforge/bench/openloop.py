"""Open-loop latency at a fixed rate, free of coordinated omission.

Request i is due at t0 + i / rate whatever happened to the ones before it, and its latency is
measured from that *intended* start: when the server stalls, the requests that should have
been sent meanwhile count their wait, as a real client population's would. (A closed loop like
wrk's sends nothing while it waits, so a stall hides in a handful of slow samples.) If the
generator itself falls behind its schedule, it says so: the figures are then upper bounds.
"""

import asyncio
import gc
import random
import time
from dataclasses import dataclass, field

import httpx

from apiforge.bench.scenario import ConcreteRequest
from apiforge.bench.stats import percentiles

# Dispatch later than this after the intended time means the generator could not keep up.
LATE_AFTER_S = 0.005


@dataclass
class OpenLoopResult:
    rate: float
    duration_s: float
    sent: int
    ok: int
    non_2xx: int
    errors: int
    latency_ms: dict[str, float]
    per_endpoint: dict[str, dict[str, float]]
    statuses: dict[str, int]
    late_dispatches: int
    max_dispatch_lag_ms: float
    fell_behind: bool = field(default=False)

    @property
    def error_rate(self) -> float:
        return (self.non_2xx + self.errors) / self.sent if self.sent else 1.0


@dataclass
class _Sample:
    name: str
    latency_s: float
    status: int | None  # None: no answer (connection error or timeout)


async def _one(
    client: httpx.AsyncClient, request: ConcreteRequest, intended: float, out: list[_Sample]
) -> None:
    headers = {"Content-Type": "application/json"} if request.body is not None else None
    try:
        response = await client.request(
            request.method, request.path, content=request.body, headers=headers
        )
        await response.aread()
        status: int | None = response.status_code
    except httpx.HTTPError:
        status = None
    out.append(_Sample(request.name, time.perf_counter() - intended, status))


async def run_open_loop(
    base_url: str,
    mix: list[ConcreteRequest],
    *,
    rate: float,
    duration: float,
    connections: int,
    headers: dict[str, str] | None = None,
    request_timeout: float = 15.0,
    seed: int = 1,
) -> OpenLoopResult:
    """Send `rate * duration` requests drawn from `mix` on schedule over at most
    `connections` keep-alive connections; a request waiting for a free connection is queued,
    and its wait counts."""
    total = max(1, round(rate * duration))
    samples: list[_Sample] = []
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        limits=limits,
        timeout=httpx.Timeout(request_timeout, pool=None),
    ) as client:
        # Open the connections before the clock starts: connecting is not what is measured.
        warm = mix[0]
        await asyncio.gather(
            *(_one(client, warm, time.perf_counter(), []) for _ in range(connections))
        )
        # A collector pause in the generator would be charged to the server.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            late, max_lag = await _schedule(client, mix, rate, total, seed, samples)
        finally:
            if gc_was_enabled:
                gc.enable()
    return summarize(samples, rate=rate, duration=duration, late=late, max_lag_s=max_lag)


async def _schedule(
    client: httpx.AsyncClient,
    mix: list[ConcreteRequest],
    rate: float,
    total: int,
    seed: int,
    samples: list[_Sample],
) -> tuple[int, float]:
    """Dispatch `total` requests at `rate`; (late dispatches, worst lag in seconds)."""
    rng = random.Random(seed)  # noqa: S311  # a reproducible mix, not a secret
    tasks: set[asyncio.Task[None]] = set()
    late = 0
    max_lag = 0.0
    # Later than one interval between requests (or 5 ms) is late.
    late_after = max(LATE_AFTER_S, 1 / rate)
    t0 = time.perf_counter()
    for i in range(total):
        intended = t0 + i / rate
        delay = intended - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lag = time.perf_counter() - intended
        max_lag = max(max_lag, lag)
        late += lag > late_after
        task = asyncio.create_task(_one(client, rng.choice(mix), intended, samples))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return late, max_lag


def summarize(
    samples: list[_Sample], *, rate: float, duration: float, late: int, max_lag_s: float
) -> OpenLoopResult:
    by_name: dict[str, list[float]] = {}
    statuses: dict[str, int] = {}
    for s in samples:
        by_name.setdefault(s.name, []).append(s.latency_s * 1000)
        key = "error" if s.status is None else str(s.status)
        statuses[key] = statuses.get(key, 0) + 1
    ok = sum(1 for s in samples if s.status is not None and s.status < 400)
    errors = sum(1 for s in samples if s.status is None)
    return OpenLoopResult(
        rate=rate,
        duration_s=duration,
        sent=len(samples),
        ok=ok,
        non_2xx=len(samples) - ok - errors,
        errors=errors,
        latency_ms=percentiles([s.latency_s * 1000 for s in samples]),
        per_endpoint={name: percentiles(values) for name, values in sorted(by_name.items())},
        statuses=dict(sorted(statuses.items())),
        late_dispatches=late,
        max_dispatch_lag_ms=max_lag_s * 1000,
        # More than 1 % of requests dispatched late: the rate measured is the generator's.
        fell_behind=late > max(1, len(samples) // 100),
    )
