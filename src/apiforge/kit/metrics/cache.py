"""Cache counters for the metrics: the caches count hits, misses and errors in plain integers
(`CacheStats`, the cheapest thing on the request path), and these are carried over to the
Prometheus counters by difference whenever the sampler runs. Not for: caching."""

from apiforge.kit.cache import CacheBackend, CacheStats, TieredCache
from apiforge.kit.metrics.registry import AppMetrics


def cache_layers(cache: CacheBackend | None) -> list[CacheStats]:
    """The counted layers of the app's cache, each under its own bounded name: "l1" (in
    process) and "redis" for a tiered cache, the cache's own name otherwise."""
    if cache is None:
        return []
    if isinstance(cache, TieredCache):
        return [cache.l1.stats, cache.l2.stats]
    return [cache.stats]


class CacheCounters:
    """Remembers what was already exported per layer, and adds only the difference."""

    def __init__(self, metrics: AppMetrics) -> None:
        self._metrics = metrics
        # Keyed by id(); the entry holds the stats object itself, so that id is never reused
        # by a later cache (a restarted lifespan builds new ones) while the entry exists.
        self._exported: dict[int, tuple[CacheStats, int, int, int]] = {}

    def export(self, layers: list[CacheStats]) -> None:
        for stats in layers:
            _, hits, misses, errors = self._exported.get(id(stats), (stats, 0, 0, 0))
            # Differences are never negative: CacheStats only grows.
            if stats.hits > hits:
                self._metrics.cache_hits.labels(stats.name).inc(stats.hits - hits)
            if stats.misses > misses:
                self._metrics.cache_misses.labels(stats.name).inc(stats.misses - misses)
            if stats.errors > errors:
                self._metrics.cache_errors.labels(stats.name).inc(stats.errors - errors)
            self._exported[id(stats)] = (stats, stats.hits, stats.misses, stats.errors)
