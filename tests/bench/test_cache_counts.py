"""The bench reads the shop's cache counters from its Prometheus exposition."""

from prometheus_client import CollectorRegistry, Counter, generate_latest

from apiforge.bench.cache_counts import describe, parse, scrape


def _exposition(hits: dict[str, int], misses: dict[str, int]) -> str:
    """What kit.metrics exposes: one counter per kind, labelled by cache layer."""
    registry = CollectorRegistry()
    hit = Counter("shop_cache_hits_total", "Cache hits.", ["cache"], registry=registry)
    miss = Counter("shop_cache_misses_total", "Cache misses.", ["cache"], registry=registry)
    for layer, n in hits.items():
        hit.labels(layer).inc(n)
    for layer, n in misses.items():
        miss.labels(layer).inc(n)
    other = Counter("shop_http_requests_total", "Requests.", ["route"], registry=registry)
    other.labels("/x").inc(7)
    return generate_latest(registry).decode()


def test_the_counters_are_read_per_layer_and_a_round_is_their_difference() -> None:
    before = parse(_exposition({"front": 10, "l1": 2}, {"front": 5, "l1": 3}))
    after = parse(_exposition({"front": 90, "l1": 2, "redis": 1}, {"front": 25, "l1": 3}))
    assert before == {"front": {"hits": 10, "misses": 5}, "l1": {"hits": 2, "misses": 3}}
    assert before is not None
    assert after is not None
    assert describe(before, after) == (
        "front 80 hits / 20 misses (80.0 %); l1 0 hits / 0 misses; redis 1 hits / 0 misses"
        " (100.0 %)"
    )


def test_a_target_without_the_counters_gives_nothing() -> None:
    assert parse(_exposition({}, {})) is None  # declared, never counted
    assert scrape("http://127.0.0.1:9", timeout=0.5) is None  # nothing listens there
