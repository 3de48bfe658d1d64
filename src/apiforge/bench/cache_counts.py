"""The shop's own cache counters, scraped from its `/metrics` around each closed-loop round, so
a hit rate in a report is counted by the shop, not computed from the mix. Not for: targets
without the counters (the baselines): they give nothing, and the round goes on."""

import re

import httpx

# `<namespace>_cache_hits_total{cache="front"} 123.0` (kit.metrics: one counter per layer).
_COUNTER = re.compile(
    r'^\w+_cache_(?P<kind>hits|misses)_total\{cache="(?P<layer>\w+)"\} (?P<value>\S+)$', re.M
)
Counts = dict[str, dict[str, float]]


def scrape(base_url: str, *, timeout: float = 5.0) -> Counts | None:
    """{layer: {"hits": n, "misses": n}} now, or None when the target has no such metrics."""
    try:
        answer = httpx.get(f"{base_url}/metrics", timeout=timeout)
    except httpx.HTTPError:
        return None
    return parse(answer.text) if answer.status_code == 200 else None


def parse(exposition: str) -> Counts | None:
    """The cache counters in a Prometheus text exposition (summed per layer), None if none."""
    counts: Counts = {}
    for match in _COUNTER.finditer(exposition):
        layer = counts.setdefault(match["layer"], {"hits": 0.0, "misses": 0.0})
        layer[match["kind"]] += float(match["value"])
    return counts or None


def describe(before: Counts, after: Counts) -> str:
    """What one round added, per layer: `front 5,120 hits / 1,013 misses (83.5 %)`."""
    parts = []
    for layer, now in sorted(after.items()):
        then = before.get(layer, {})
        hits = now["hits"] - then.get("hits", 0.0)
        misses = now["misses"] - then.get("misses", 0.0)
        total = hits + misses
        share = f" ({100 * hits / total:.1f} %)" if total else ""
        parts.append(f"{layer} {hits:,.0f} hits / {misses:,.0f} misses{share}")
    return "; ".join(parts)
