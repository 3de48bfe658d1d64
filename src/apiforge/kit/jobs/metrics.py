"""The job queue's Prometheus metrics, by job name: enqueued, started, succeeded, failed
(attempts), retried, dead-lettered; run duration; commit-to-start latency; queue depth
(sampled at scrape). Not for: updating them (the runner and the queue do)."""

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# A job is a few ms (a mail) to minutes (an export): 1 ms to 5 min.
JOB_DURATION_BUCKETS = (
    *(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
    *(1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)


@dataclass(frozen=True)
class JobMetrics:
    enqueued: Counter
    started: Counter
    succeeded: Counter
    failed: Counter
    retried: Counter
    dead_lettered: Counter
    duration: Histogram
    start_latency: Histogram
    queue_depth: Gauge


def build_job_metrics(registry: CollectorRegistry, namespace: str) -> JobMetrics:
    def counter(name: str, documentation: str) -> Counter:
        return Counter(f"{namespace}_jobs_{name}_total", documentation, ["job"], registry=registry)

    return JobMetrics(
        enqueued=counter("enqueued", "Jobs sent to the queue (after their commit)."),
        started=counter("started", "Job attempts started."),
        succeeded=counter("succeeded", "Jobs that completed."),
        failed=counter("failed", "Job attempts that raised or timed out."),
        retried=counter("retried", "Failed attempts followed by another attempt."),
        dead_lettered=counter("dead_lettered", "Jobs stored as dead letters after their limit."),
        duration=Histogram(
            f"{namespace}_job_duration_seconds",
            "Time one job attempt ran, by job and outcome.",
            ["job", "outcome"],
            registry=registry,
            buckets=JOB_DURATION_BUCKETS,
        ),
        start_latency=Histogram(
            f"{namespace}_job_start_latency_seconds",
            "Time from the enqueuing commit to the job's first attempt.",
            ["job"],
            registry=registry,
            buckets=JOB_DURATION_BUCKETS,
        ),
        queue_depth=Gauge(
            f"{namespace}_jobs_queue_depth",
            "Messages waiting or unacknowledged in the queue (sampled when scraped).",
            registry=registry,
            # Under a supervisor every process samples the same queue: the highest of the
            # live ones' latest samples (a dead process's is swept).
            multiprocess_mode="livemax",
        ),
    )
