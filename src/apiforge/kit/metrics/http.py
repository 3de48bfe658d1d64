"""RED metrics of HTTP requests, fed by the telemetry middleware: the request counter and the
latency histogram by route template, counted in plain Python per request and pushed into the
Prometheus objects by `flush` (the sampler's job). Not for: timing (the middleware does) or
in-progress counting (sampled off the request path, see sampler.py).
"""

from bisect import bisect_left

from prometheus_client import Counter, Histogram

from apiforge.kit.asgi import Scope
from apiforge.kit.metrics.registry import AppMetrics
from apiforge.kit.route_template import route_template

# Any other method (a client may send anything) is counted as OTHER: labels stay bounded.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"


class _Series:
    """One (method, route, status)'s requests since the last flush, and the labelled children
    they go to. `buckets[i]` counts durations d with bound[i-1] < d <= bound[i] (the last one
    is +Inf): per bucket, not cumulative, which is how prometheus_client keeps them too."""

    __slots__ = ("buckets", "duration", "requests", "sum")

    def __init__(self, requests: Counter, duration: Histogram, size: int) -> None:
        self.requests = requests
        self.duration = duration
        self.sum = 0.0
        self.buckets = [0] * size


class HttpMetrics:
    """A `RequestObserver`, and the `flush` that carries its counts over to the metrics.

    Why not `.inc()` and `.observe()` per request (scripts/micro/metrics.py): on cached
    children they cost 1.8 µs per request in one process and 3.7 µs in multiprocess mode (each
    value a locked mmap write), which `apiforge serve` always runs, against ~70 µs of CPU for a
    whole cached request. Adding to a plain record costs a fraction of a µs; the Prometheus
    values are then written once per series per flush.

    No lock: `request_finished` and `flush` both run on the event loop thread only (the
    middleware, the sampler's task, the scrape endpoint and the lifespan exit), so nothing
    counts between a flush reading a record and resetting it.
    """

    def __init__(self, metrics: AppMetrics) -> None:
        self._requests = metrics.http_requests
        self._duration = metrics.http_duration
        # prometheus_client's own bounds, +Inf last: bisect_left(bounds, d) is the first bucket
        # with d <= bound, the bucket `Histogram.observe(d)` would count d in (le is inclusive).
        self._bounds = tuple(self._duration._upper_bounds)
        self._series: dict[tuple[str, str, int], _Series] = {}

    def request_finished(self, scope: Scope, status: int, duration: float) -> None:
        method = scope["method"]
        if method not in KNOWN_METHODS:
            method = OTHER_METHOD
        key = (method, route_template(scope), status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = self._new_series(*key)
        series.sum += duration
        series.buckets[bisect_left(self._bounds, duration)] += 1

    def flush(self) -> None:
        """Adds what was counted since the last flush to the Prometheus values, and restarts
        from zero: nothing is counted twice or lost.

        prometheus_client has no public bulk API: replaying `observe()` n times would cost what
        aggregating saves, so bucket and sum deltas go to the child's `_buckets[i]` and `_sum`
        (value objects in either mode, the very ones `observe()` increments).
        tests/kit/metrics/test_http_flush.py fails if that private shape changes.
        """
        for series in self._series.values():
            counts, total = series.buckets, series.sum
            requests = sum(counts)
            if not requests:
                continue
            # Reset first: should a write fail, the figures are short rather than doubled.
            series.buckets, series.sum = [0] * len(counts), 0.0
            series.requests.inc(requests)
            cells = series.duration._buckets
            for index, count in enumerate(counts):
                if count:
                    cells[index].inc(count)
            series.duration._sum.inc(total)

    def _new_series(self, method: str, route: str, status: int) -> _Series:
        # labels() validates and locks: once per series, never per request.
        return _Series(
            self._requests.labels(method, route, str(status)),
            self._duration.labels(method, route),
            len(self._bounds),
        )
