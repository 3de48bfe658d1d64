import pytest

from apiforge.bench.stats import median, median_of, percentile, percentiles, ratio, slo_verdict


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 99.9) == 100.0
    assert percentile([], 50) == 0.0
    out = percentiles([5.0, 1.0, 3.0])
    assert out["p50"] == 3.0
    assert out["max"] == 5.0
    assert out["mean"] == 3.0
    assert percentiles([])["max"] == 0.0


def test_medians_across_rounds() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([]) == 0.0
    rounds = [{"p50": 1.0, "p99": 10.0}, {"p50": 3.0, "p99": 30.0}, {"p50": 2.0}]
    assert median_of(rounds) == {"p50": 2.0, "p99": 20.0}


def test_ratio_to_the_baseline() -> None:
    assert ratio(1500.0, 15000.0) == pytest.approx(0.1)
    assert ratio(1.0, 0.0) is None


def test_slo_verdict() -> None:
    limits = {"max_p50_ms": 50.0, "max_p99_ms": 200.0, "max_error_rate": 0.001}
    ok = slo_verdict(p50_ms=10, p99_ms=100, error_rate=0.0, **limits)
    assert ok.passed
    assert ok.reasons == ()
    bad = slo_verdict(p50_ms=50, p99_ms=250, error_rate=0.002, **limits)
    assert not bad.passed
    assert bad.reasons == (
        "p50 50.0 ms >= 50 ms",
        "p99 250.0 ms >= 200 ms",
        "errors 0.20% >= 0.10%",
    )
    # A zero error budget is met by zero errors.
    assert slo_verdict(p50_ms=1, p99_ms=1, error_rate=0.0, max_p50_ms=5, max_p99_ms=5,
                       max_error_rate=0.0).passed  # fmt: skip
