"""Outbound-call counters reach Prometheus per upstream: the sampler exports each upstream's
counts by difference and its breaker's state, and forgets upstreams once closed."""

import httpx

from apiforge.kit.http_client import Upstream, live_upstreams
from apiforge.kit.metrics.registry import build_metrics
from apiforge.kit.metrics.sampler import MetricsSampler
from apiforge.kit.settings import HttpClientSettings


def failing(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500 if request.url.path == "/bad" else 200, content=b"x")


async def test_the_sampler_exports_each_upstreams_counts_and_circuit() -> None:
    metrics = build_metrics(version="test", namespace="uptest")
    sampler = MetricsSampler(metrics, in_flight={})
    policy = HttpClientSettings(
        attempts=2,
        breaker_failures=2,
        breaker_failure_rate=None,
        backoff_base_seconds=0,
        backoff_max_seconds=0,
    )
    upstream = Upstream("payments-psp", policy, transport=httpx.MockTransport(failing))
    try:
        assert upstream in live_upstreams()
        await upstream.request("GET", "http://psp.test/ok")
        await upstream.request("GET", "http://psp.test/bad")  # two attempts, both 500: opens
        sampler.sample()
        sampler.sample()  # a second run adds nothing: differences only

        def value(event: str) -> float | None:
            labels = {"upstream": "payments-psp", "event": event}
            return metrics.registry.get_sample_value("uptest_upstream_events_total", labels)

        assert (value("calls"), value("attempts"), value("retries"), value("failures")) == (
            2.0,
            3.0,
            1.0,
            2.0,
        )
        circuit = metrics.registry.get_sample_value(
            "uptest_upstream_circuit_open", {"upstream": "payments-psp"}
        )
        assert circuit == 1.0
    finally:
        await upstream.aclose()
    assert upstream not in live_upstreams()
