"""Cost of the metrics on the request path, per request: the HTTP metrics observer (cached
labelled children) against labelling on every call, the loop-lag monitor's observer, and the
whole telemetry middleware with both around a bare ASGI app against the bare app. Measured in
one process (a registry of its own) or in multiprocess mode (--multiprocess: values written to
mmap files, as under `apiforge serve --workers N`).

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


def measure(call: Call, number: int) -> float:
    """CPU µs per call (process time, steadier than wall time on a shared machine)."""
    times = timeit.repeat(call, number=number, repeat=5, timer=time.process_time)
    return min(times) / number * 1e6


def run(number: int, rounds: int) -> None:
    metrics = build_metrics(version="bench")
    http = HttpMetrics(metrics)
    lag = LoopLagMonitor(LoopLagSettings(), in_flight={})
    middleware = RequestTelemetryMiddleware(_app, observers=[http, lag], in_flight={})
    candidates: list[tuple[str, Call]] = [
        ("HttpMetrics.request_finished (chosen: cached children)", observer(http.request_finished)),
        ("labels() on every call", naive(metrics)),
        ("LoopLagMonitor.request_finished", observer(lag.request_finished)),
        ("bare ASGI app", through(_app)),
        ("telemetry middleware + both observers + bare app", through(middleware)),
    ]
    best = dict.fromkeys((name for name, _ in candidates), float("inf"))
    for _ in range(rounds):  # each candidate in turn: a burst from elsewhere hits all alike
        for name, call in candidates:
            best[name] = min(best[name], measure(call, number))
    mode = "multiprocess (mmap files)" if multiprocess_mode() else "one process"
    print(f"CPU µs per request, {mode}; best of {rounds} rounds x 5 x {number}:")
    for name, micros in best.items():
        print(f"  {name:<58} {micros:6.2f}")
    overhead = best[candidates[-1][0]] - best["bare ASGI app"]
    print(f"  {'=> telemetry middleware with the metrics, per request':<58} {overhead:6.2f}")


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
