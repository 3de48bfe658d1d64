"""The kit's Prometheus metric objects, built once per app, and the registry the endpoint collects
from. Not for: updating them (http.py, sampler.py) or serving them (router.py).

One process: each app gets its own `CollectorRegistry`, so any number of apps can be built in
one test process. Several workers: prometheus_client writes every value to per-process mmap
files in PROMETHEUS_MULTIPROC_DIR (chosen when it is first imported; `apiforge serve` sets the
variable before starting workers), and a scrape aggregates all the files (multiprocess.py).
The names below (the shop's namespace is `apiforge`) are a contract with the dashboards and
alert rules in deploy/.
"""

import platform
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from apiforge.kit.metrics.multiprocess import multiprocess_mode, multiprocess_registry

# 1 ms to 10 s, as the RED dashboards and the p99 alert expect.
HTTP_DURATION_BUCKETS = (
    *(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
    *(1.0, 2.5, 5.0, 10.0),
)
LOOP_LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# An idle connection is handed out in tens of microseconds; the top bucket covers the
# longest allowed pool timeout (DatabaseSettings.pool_timeout <= 120 s lands in +Inf).
POOL_WAIT_BUCKETS = (
    *(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05),
    *(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


@dataclass(frozen=True)
class AppMetrics:
    """Every metric the kit exports for one app. `registry` is what a scrape collects: the
    app's own registry, or in multiprocess mode one aggregating every worker's files."""

    registry: CollectorRegistry
    multiprocess: bool
    http_requests: Counter
    http_duration: Histogram
    http_in_progress: Gauge
    pool_size: Gauge
    pool_checked_out: Gauge
    pool_overflow: Gauge
    pool_wait: Histogram
    cache_hits: Counter
    cache_misses: Counter
    cache_errors: Counter
    after_commit_failures: Counter
    dependency_up: Gauge
    ratelimit_decisions: Counter
    upstream_events: Counter
    upstream_circuit_open: Gauge
    loop_lag: Histogram
    build_info: Gauge


def build_metrics(*, version: str, namespace: str = "apiforge") -> AppMetrics:
    """`version`: the service's version, the `version` label of `<namespace>_build_info`.
    `namespace`: the names' prefix (settings.metrics.namespace, the service's name)."""
    own = CollectorRegistry()
    multiprocess = multiprocess_mode()

    # Summed over live workers: files of a dead worker are dropped by `mark_process_dead`.
    def gauge(name: str, documentation: str) -> Gauge:
        return Gauge(name, documentation, registry=own, multiprocess_mode="livesum")

    def cache_counter(name: str, documentation: str) -> Counter:
        return Counter(name, documentation, ["cache"], registry=own)

    metrics = AppMetrics(
        registry=multiprocess_registry() if multiprocess else own,
        multiprocess=multiprocess,
        http_requests=Counter(
            f"{namespace}_http_requests_total",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=own,
        ),
        http_duration=Histogram(
            f"{namespace}_http_request_duration_seconds",
            "Time from the request's arrival to its last byte sent, by method and route.",
            ["method", "route"],
            registry=own,
            buckets=HTTP_DURATION_BUCKETS,
        ),
        http_in_progress=gauge(
            f"{namespace}_http_requests_in_progress",
            "HTTP requests being served (sampled; a scrape counts itself).",
        ),
        pool_size=gauge(f"{namespace}_db_pool_size", "Configured size of the DB connection pool."),
        pool_checked_out=gauge(
            f"{namespace}_db_pool_checked_out", "DB connections checked out of the pool (sampled)."
        ),
        pool_overflow=gauge(
            f"{namespace}_db_pool_overflow", "DB connections open beyond the pool size (sampled)."
        ),
        pool_wait=Histogram(
            f"{namespace}_db_pool_wait_seconds",
            "Time to check a connection out of the DB pool (opening one included).",
            registry=own,
            buckets=POOL_WAIT_BUCKETS,
        ),
        upstream_events=Counter(
            f"{namespace}_upstream_events_total",
            "Outbound calls by upstream and event: calls, attempts, retries, failures (transport,"
            " 5xx, budget), rejected (circuit open), timeouts, truncated bodies.",
            ["upstream", "event"],
            registry=own,
        ),
        upstream_circuit_open=Gauge(
            f"{namespace}_upstream_circuit_open",
            "1 while the upstream's circuit breaker is open or probing (sampled).",
            ["upstream"],
            registry=own,
            multiprocess_mode="livemax",
        ),
        cache_hits=cache_counter(f"{namespace}_cache_hits_total", "Cache hits, by cache layer."),
        cache_misses=cache_counter(
            f"{namespace}_cache_misses_total", "Cache misses, by cache layer."
        ),
        cache_errors=cache_counter(
            f"{namespace}_cache_errors_total",
            "Cache backend failures (Redis down or slow), each answered as a miss.",
        ),
        after_commit_failures=Counter(
            f"{namespace}_after_commit_failures_total",
            "After-commit callbacks that raised (logged; the committed answer stood).",
            registry=own,
        ),
        # Set by each readiness probe; the most recent answer wins across workers.
        dependency_up=Gauge(
            f"{namespace}_dependency_up",
            "1 when the dependency answered the last readiness check, 0 when not (a required "
            "one failing makes the pod not ready, an optional one only degraded).",
            ["dependency"],
            registry=own,
            multiprocess_mode="livemostrecent",
        ),
        ratelimit_decisions=Counter(
            f"{namespace}_ratelimit_decisions_total",
            "Rate-limit decisions, by policy and outcome (allowed, limited; while Redis is "
            "down: failed_open, failed_closed, fallback_allowed, fallback_limited).",
            ["policy", "outcome"],
            registry=own,
        ),
        loop_lag=Histogram(
            f"{namespace}_event_loop_lag_seconds",
            "How late the event loop ran the lag monitor's timer.",
            registry=own,
            buckets=LOOP_LAG_BUCKETS,
        ),
        # One series per live worker in multiprocess mode (a `pid` label): counts the workers.
        build_info=Gauge(
            f"{namespace}_build_info",
            "Always 1; the service version and Python version as labels.",
            ["version", "python"],
            registry=own,
            multiprocess_mode="liveall",
        ),
    )
    metrics.build_info.labels(version, platform.python_version()).set(1)
    if not multiprocess:  # reads /proc of this process; meaningless summed over workers
        ProcessCollector(registry=own)
    return metrics
