"""Outbound-call counters for the metrics: each `Upstream` counts in plain integers
(`UpstreamStats`, the cheapest thing on the call path), carried over to Prometheus by
difference whenever the sampler runs, with the breaker's state as a gauge. Not for: calling."""

from apiforge.kit.breaker import BreakerState
from apiforge.kit.http_client import Upstream, UpstreamStats
from apiforge.kit.metrics.registry import AppMetrics

# The counters exported, as the `event` label (a bounded set).
EVENTS = ("calls", "attempts", "retries", "failures", "rejected", "timeouts", "truncated")


class UpstreamCounters:
    """Remembers what was already exported per upstream, and adds only the difference."""

    def __init__(self, metrics: AppMetrics) -> None:
        self._metrics = metrics
        # Keyed by id(); the entry holds the stats object itself, so that id is never reused
        # while the entry exists.
        self._exported: dict[int, tuple[UpstreamStats, tuple[int, ...]]] = {}

    def export(self, upstreams: list[Upstream]) -> None:
        for upstream in upstreams:
            stats = upstream.stats
            now = tuple(getattr(stats, event) for event in EVENTS)
            _, before = self._exported.get(id(stats), (stats, (0,) * len(EVENTS)))
            for event, new, old in zip(EVENTS, now, before, strict=True):
                if new > old:
                    self._metrics.upstream_events.labels(stats.name, event).inc(new - old)
            self._exported[id(stats)] = (stats, now)
            opened = 0 if upstream.circuit is BreakerState.CLOSED else 1
            self._metrics.upstream_circuit_open.labels(stats.name).set(opened)


__all__ = ["EVENTS", "UpstreamCounters"]
