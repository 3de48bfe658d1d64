"""Prometheus series of the outbox relay: events published and failed, and the lag (age of the
oldest unsent event). Not for: the app's request metrics (kit.metrics)."""

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge


@dataclass(frozen=True)
class OutboxMetrics:
    """The relay's Prometheus series (`OutboxMetrics.create(registry)`), given to
    `OutboxRelay(metrics=...)`: events published and failed, and the outbox's lag."""

    published: Counter
    failed: Counter
    lag: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry, namespace: str = "apiforge") -> "OutboxMetrics":
        """The series, registered in `registry` (`<namespace>_outbox_published_total`,
        `..._failed_total`, `..._lag_seconds`)."""
        return cls(
            published=Counter(
                f"{namespace}_outbox_published_total",
                "Outbox events every sink accepted (marked sent).",
                registry=registry,
            ),
            failed=Counter(
                f"{namespace}_outbox_failed_total",
                "Outbox event publications that a sink refused or timed out (retried later).",
                registry=registry,
            ),
            lag=Gauge(
                f"{namespace}_outbox_lag_seconds",
                "Age of the oldest unsent outbox event (0 when none waits).",
                registry=registry,
                multiprocess_mode="max",
            ),
        )
