"""The `events` settings section: where the outbox relay publishes (a RabbitMQ topic exchange,
when a URL is set) and how it polls. Not for: jobs (their own section) or a service's
consumers' queues (the service's sections)."""

from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator


class EventsSettings(BaseModel):
    """`amqp_url`: RabbitMQ (`amqp://user:pass@host:5672/vhost`); unset, events go to the
    in-process sinks only (the embedded default: `make run` needs no broker). `exchange`: the
    topic exchange events are published to, routing key = event type. `embedded_relay`: run
    the relay inside every process of the service (true) or none (false: run `apiforge outbox
    relay`); unset, the serving process relays on SQLite (the one-process embedded default)
    and `apiforge worker` does on PostgreSQL, so the API's workers never wait on the broker
    (kit.outbox.embedded.relays_here). `batch_size`,
    `poll_interval_seconds`: how many unsent events one pass takes, and how long the relay
    sleeps when a pass found none (its latency when idle).
    `publish_timeout_seconds`: the bound on one publish (a confirm from RabbitMQ)."""

    amqp_url: SecretStr | None = None
    exchange: str = Field(default="apiforge.events", min_length=1, max_length=200)
    embedded_relay: bool | None = None
    batch_size: int = Field(default=100, ge=1, le=10_000)
    poll_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    publish_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    # Sent events are kept this long (for inspection) before `prune` deletes them.
    keep_sent_hours: int = Field(default=72, ge=1, le=24 * 90)

    @field_validator("amqp_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # `APIFORGE_EVENTS__AMQP_URL: ${APIFORGE_EVENTS__AMQP_URL:-}` (deploy/compose.yaml)
        # passes an empty value when the events profile is not used: no broker, not a bad one.
        return None if value == "" else value


class ConsumerSettings(BaseModel):
    """One RabbitMQ queue a service consumes (kit.consumer). `queue`: its name; the consumer
    declares it (a quorum queue), its dead-letter exchange `<queue>.dlx` and dead-letter queue
    `<queue>.dead`. `prefetch`: unacknowledged messages the broker hands this consumer at
    once (its memory and its share of the work are bounded by it). `max_attempts`: deliveries
    of one message before it is dead-lettered (a crash mid-message counts: the broker
    redelivers). `retry_delay_seconds`: the pause before a failed message is handed back."""

    queue: str = Field(default="", max_length=200)
    prefetch: int = Field(default=10, ge=1, le=1000)
    max_attempts: int = Field(default=5, ge=1, le=100)
    retry_delay_seconds: float = Field(default=1.0, ge=0, le=60)
    # Messages still being handled get this long to finish after SIGTERM.
    drain_seconds: float = Field(default=10.0, ge=0, le=300)
