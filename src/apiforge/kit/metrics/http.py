"""RED metrics of HTTP requests, fed by the telemetry middleware: the request counter and the
latency histogram by route template. Not for: timing (the middleware does) or in-progress
counting (sampled off the request path, see sampler.py).
"""

from prometheus_client import Counter, Histogram

from apiforge.kit.asgi import Scope
from apiforge.kit.metrics.registry import AppMetrics
from apiforge.kit.route_template import route_template

# Any other method (a client may send anything) is counted as OTHER: labels stay bounded.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"

_Children = tuple[Counter, Histogram]


class HttpMetrics:
    """A `RequestObserver`. The labelled children are looked up once per (method, route,
    status) and kept: `labels()` validates and locks on every call, a dict lookup does not."""

    def __init__(self, metrics: AppMetrics) -> None:
        self._requests = metrics.http_requests
        self._duration = metrics.http_duration
        self._children: dict[tuple[str, str, int], _Children] = {}

    def request_finished(self, scope: Scope, status: int, duration: float) -> None:
        method = scope["method"]
        if method not in KNOWN_METHODS:
            method = OTHER_METHOD
        key = (method, route_template(scope), status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = self._label(*key)
        children[0].inc()
        children[1].observe(duration)

    def _label(self, method: str, route: str, status: int) -> _Children:
        return (
            self._requests.labels(method, route, str(status)),
            self._duration.labels(method, route),
        )
