"""Numbers across rounds and targets: percentiles of samples, medians of rounds, ratios to
the baseline, and the SLO verdict."""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

PERCENTILE_KEYS = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def percentiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    out = {key: percentile(ordered, pct) for key, pct in PERCENTILE_KEYS.items()}
    out["max"] = ordered[-1] if ordered else 0.0
    out["mean"] = statistics.fmean(ordered) if ordered else 0.0
    return out


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def median_of(rounds: Sequence[dict[str, float]]) -> dict[str, float]:
    """Key by key median of per-round figures (keys missing from a round are skipped)."""
    keys = sorted({k for r in rounds for k in r})
    return {k: median([r[k] for r in rounds if k in r]) for k in keys}


def ratio(value: float, baseline: float) -> float | None:
    return value / baseline if baseline > 0 else None


@dataclass(frozen=True)
class Verdict:
    passed: bool
    p50_ms: float
    p99_ms: float
    error_rate: float
    reasons: tuple[str, ...]


def slo_verdict(
    *,
    p50_ms: float,
    p99_ms: float,
    error_rate: float,
    max_p50_ms: float,
    max_p99_ms: float,
    max_error_rate: float,
) -> Verdict:
    reasons = []
    if p50_ms >= max_p50_ms:
        reasons.append(f"p50 {p50_ms:.1f} ms >= {max_p50_ms:g} ms")
    if p99_ms >= max_p99_ms:
        reasons.append(f"p99 {p99_ms:.1f} ms >= {max_p99_ms:g} ms")
    if error_rate > 0 and error_rate >= max_error_rate:
        reasons.append(f"errors {error_rate:.2%} >= {max_error_rate:.2%}")
    return Verdict(not reasons, p50_ms, p99_ms, error_rate, tuple(reasons))
