"""The metrics sampler: a task that refreshes, off the request path, the figures that are cheaper
to read than to count as they change (requests in progress, the DB pool, the caches' counters),
pushes the HTTP metrics and rate-limit decisions counted since the last run, and drops dead
workers' gauge files. Not for: per-request counting (http.py).

It also runs at each scrape, so this process's figures are exact when scraped; another worker's
(or all of them, on the supervisor's separate metrics port) are at most `SAMPLE_SECONDS` old.
It runs once more at the lifespan's exit, which a server's worker reaches before it ends: the
requests of its last second are not lost.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from apiforge.kit.asgi import Scope
from apiforge.kit.background import background_task
from apiforge.kit.cache import CacheStats
from apiforge.kit.http_client import live_upstreams
from apiforge.kit.metrics.cache import CacheCounters, cache_layers
from apiforge.kit.metrics.http import HttpMetrics
from apiforge.kit.metrics.multiprocess import sweep_dead_processes
from apiforge.kit.metrics.pool import sample_pool, time_pool_waits
from apiforge.kit.metrics.registry import AppMetrics
from apiforge.kit.metrics.upstream import UpstreamCounters
from apiforge.kit.state import AppState

SAMPLE_SECONDS = 1.0
# Dead workers are rare: look for their files every this many samples.
SWEEP_EVERY = 10

logger = logging.getLogger("apiforge.metrics")


class MetricsSampler:
    """`in_flight`: the telemetry middleware's map of running requests. `http`: the request
    observer whose counts it pushes. `front`: the front cache's counters. `multiproc_dir`:
    where workers' files are (sweeping needs it)."""

    def __init__(
        self,
        metrics: AppMetrics,
        *,
        in_flight: Mapping[int, Scope],
        http: HttpMetrics | None = None,
        front: CacheStats | None = None,
        multiproc_dir: str | None = None,
        interval: float | None = None,
    ) -> None:
        self.metrics = metrics
        self._in_flight = in_flight
        self._http = http
        self._front = front
        self._multiproc_dir = multiproc_dir if metrics.multiprocess else None
        self._interval = SAMPLE_SECONDS if interval is None else interval
        self._cache_counters = CacheCounters(metrics)
        self._upstream_counters = UpstreamCounters(metrics)
        self._state: AppState | None = None
        self._after_commit_failures = 0  # already exported, of this state's database
        # Already exported, of the app's limiter (which outlives a restarted lifespan).
        self._decisions: Counter[tuple[str, str]] = Counter()

    def sample(self) -> None:
        if self._http is not None:
            self._http.flush()
        self.metrics.http_in_progress.set(len(self._in_flight))
        layers = [self._front] if self._front is not None else []
        state = self._state
        if state is not None:
            sample_pool(state.database.engine, self.metrics)
            layers += cache_layers(state.cache)
            failures = state.database.stats.after_commit_failures
            if failures > self._after_commit_failures:
                self.metrics.after_commit_failures.inc(failures - self._after_commit_failures)
                self._after_commit_failures = failures
            if state.rate_limiter is not None:
                self._export_decisions(state.rate_limiter.decisions)
        self._cache_counters.export(layers)
        self._upstream_counters.export(live_upstreams())

    def _export_decisions(self, decisions: Counter[tuple[str, str]]) -> None:
        """The limiter counts in a plain Counter (the cheapest thing per request); the
        difference since the last sample goes to Prometheus."""
        for (policy, outcome), count in list(decisions.items()):
            exported = self._decisions[policy, outcome]
            if count > exported:
                self.metrics.ratelimit_decisions.labels(policy, outcome).inc(count - exported)
                self._decisions[policy, outcome] = count

    def sweep(self) -> None:
        if self._multiproc_dir is None:
            return
        try:
            dead = sweep_dead_processes(self._multiproc_dir)
        except OSError as exc:
            logger.warning("could not sweep %s: %s", self._multiproc_dir, exc)
            return
        if dead:
            logger.info("dropped the live gauges of dead workers %s", dead)

    @asynccontextmanager
    async def running(self, state: AppState) -> AsyncIterator[None]:
        """The `LifespanResource`: samples while the app runs."""
        self._state = state
        self._after_commit_failures = 0
        time_pool_waits(state.database.engine, self.metrics)
        try:
            async with background_task(self._run(), name="apiforge-metrics-sampler"):
                yield
        finally:
            # The server ends the worker after the lifespan: push what it counted since the
            # last sample (the pools are still open, the resources exit before they close).
            self.sample()
            self._state = None

    async def _run(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(self._interval)
            self.sample()
            ticks += 1
            if ticks % SWEEP_EVERY == 0:
                self.sweep()
