"""Cost of the metrics on the request path, per request: the HTTP metrics observer (counting in
plain Python, pushed by the sampler's flush) against writing the Prometheus values per request
(cached labelled children, or labelling on every call), the flush amortised over the requests it
pushes, the loop-lag monitor's observer, and the whole telemetry middleware with both around a
bare ASGI app against the bare app. Measured in one process (a registry of its own) or in
multiprocess mode (--multiprocess: values written to mmap files, as under `apiforge serve`).

Run: .venv/bin/python scripts/micro/metrics.py [--multiprocess] [--number N] [--rounds N]
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from types import SimpleNamespace

from apiforge.kit.asgi import Message, Receive, Scope, Send
from apiforge.kit.looplag import LoopLagMonitor
from apiforge.kit.metrics import AppMetrics, build_metrics, multiprocess_mode
from apiforge.kit.metrics.http import HttpMetrics
from apiforge.kit.middleware.telemetry import RequestTelemetryMiddleware, route_template
from apiforge.kit.settings import LoopLagSettings

SCOPE: Scope = {
    "type": "http",
    "method": "GET",
    "path": "/api/products/42",
    "route": SimpleNamespace(path="/api/products/{product_id}"),
    "state": {},
}
Call = Callable[[], None]


# The flush's batch: a second of a busy worker, as many series as a real service has, each
# route's durations spread over a few buckets (what the flush writes is per non-empty bucket).
BATCH_REQUESTS = 1_000
BATCH_SERIES = 50
BATCH_DURATIONS = (0.0008, 0.0012, 0.0015, 0.003, 0.004)


def cached_children(metrics: AppMetrics) -> Call:
    """The observer before: `.inc()` and `.observe()` on children looked up once."""
    route = route_template(SCOPE)
    counter = metrics.http_requests.labels(SCOPE["method"], route, "200")
    histogram = metrics.http_duration.labels(SCOPE["method"], route)

    def call() -> None:
        counter.inc()
        histogram.observe(0.001234)

    return call


def batch_then_flush(metrics: AppMetrics) -> Call:
    """`BATCH_REQUESTS` requests over `BATCH_SERIES` routes, then one flush: per request, divide
    by `BATCH_REQUESTS`."""
    http = HttpMetrics(metrics)
    scopes = [
        {**SCOPE, "route": SimpleNamespace(path=f"/api/route{i}/{{item_id}}")}
        for i in range(BATCH_SERIES)
    ]
    requests = [
        (scopes[i % BATCH_SERIES], BATCH_DURATIONS[i % len(BATCH_DURATIONS)])
        for i in range(BATCH_REQUESTS)
    ]
    observe = http.request_finished

    def call() -> None:
        for scope, duration in requests:
            observe(scope, 200, duration)
        http.flush()

    call()  # the series' labelled children exist from now on, as in a running worker
    return call


def naive(metrics: AppMetrics) -> Call:
    """What the cached children avoid: `labels()` (validation, a lock, a dict) on every call."""

    def call() -> None:
        route = route_template(SCOPE)
        metrics.http_requests.labels(SCOPE["method"], route, "200").inc()
        metrics.http_duration.labels(SCOPE["method"], route).observe(0.001234)

    return call


def observer(observe: Callable[[Scope, int, float], None]) -> Call:
    return lambda: observe(SCOPE, 200, 0.001234)


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _receive() -> Message:
    return {"type": "http.request", "body": b""}


async def _send(message: Message) -> None:
    return None


def through(app: Callable[[Scope, Receive, Send], object]) -> Call:
    """One request through `app`, driven without an event loop: nothing in it suspends."""

    def call() -> None:
        coroutine = app(dict(SCOPE), _receive, _send)
        try:
            coroutine.send(None)  # type: ignore[attr-defined]
        except StopIteration:
            return

    return call


def measure(call: Call, number: int, per_call: int = 1) -> float:
    """CPU µs per request, `per_call` requests a call (process time, steadier than wall time on
    a shared machine)."""
    number = max(1, number // per_call)
    times = timeit.repeat(call, number=number, repeat=5, timer=time.process_time)
    return min(times) / (number * per_call) * 1e6


CHOSEN = "HttpMetrics.request_finished (chosen: plain counting)"
BATCH = "the same, 1,000 requests over 50 series + one flush"
MIDDLEWARE = "telemetry middleware + both observers + bare app"
BARE = "bare ASGI app"


def run(number: int, rounds: int) -> None:
    metrics = build_metrics(version="bench")
    http = HttpMetrics(metrics)
    lag = LoopLagMonitor(LoopLagSettings(), in_flight={})
    middleware = RequestTelemetryMiddleware(_app, observers=[http, lag], in_flight={})
    candidates: list[tuple[str, Call, int]] = [
        (CHOSEN, observer(http.request_finished), 1),
        (BATCH, batch_then_flush(metrics), BATCH_REQUESTS),
        (".inc() + .observe() on cached children (before)", cached_children(metrics), 1),
        ("labels() on every call", naive(metrics), 1),
        ("LoopLagMonitor.request_finished", observer(lag.request_finished), 1),
        (BARE, through(_app), 1),
        (MIDDLEWARE, through(middleware), 1),
    ]
    best = dict.fromkeys((name for name, _, _ in candidates), float("inf"))
    for _ in range(rounds):  # each candidate in turn: a burst from elsewhere hits all alike
        for name, call, per_call in candidates:
            best[name] = min(best[name], measure(call, number, per_call))
    mode = "multiprocess (mmap files)" if multiprocess_mode() else "one process"
    print(f"CPU µs per request, {mode}; best of {rounds} rounds x 5 x {number}:")
    for name, micros in best.items():
        print(f"  {name:<58} {micros:6.2f}")
    flush = max(0.0, best[BATCH] - best[CHOSEN])
    overhead = best[MIDDLEWARE] - best[BARE]
    print(f"  {'=> the flush, amortised per request':<58} {flush:6.2f}")
    total = overhead + flush
    print(f"  {'=> telemetry middleware with the metrics, flush included':<58} {total:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--multiprocess", action="store_true", help="mmap-backed values")
    parser.add_argument("--number", type=int, default=20_000, help="calls per repeat")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all candidates")
    args = parser.parse_args()
    if args.multiprocess and not multiprocess_mode():
        # The mode is fixed when prometheus_client is imported: run again with it set.
        with tempfile.TemporaryDirectory() as directory:
            env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory}
            subprocess.run([sys.executable, *sys.argv], env=env, check=True)  # noqa: S603
        return
    asyncio.set_event_loop(asyncio.new_event_loop())  # asyncio primitives some layers touch
    run(args.number, args.rounds)


if __name__ == "__main__":
    main()
