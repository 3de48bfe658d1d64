"""Settings for what leaves the service: the outbound HTTP client's per-upstream policy and the
webhook dispatcher. Not for: reading the environment (the `Settings` class does)."""

from pydantic import BaseModel, Field, SecretStr, field_validator


class HttpClientSettings(BaseModel):
    """One upstream's policy (kit.http_client.Upstream). `budget_seconds` bounds a whole call:
    waiting for a slot, every attempt, the backoff between them and reading the body.
    `attempts` applies to idempotent requests only (GET, HEAD, OPTIONS, PUT, DELETE, or any
    carrying an Idempotency-Key); a `Retry-After` longer than `retry_after_max_seconds` or
    than the budget left is not waited for. The breaker opens after `breaker_failures` failed
    calls in a row or `breaker_failure_rate` of the last `breaker_window`, and lets one trial
    through after `breaker_cooldown_seconds`."""

    max_connections: int = Field(default=20, ge=1, le=1000)
    max_concurrency: int = Field(default=20, ge=1, le=1000)
    connect_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    read_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    budget_seconds: float = Field(default=10.0, gt=0, le=600)
    attempts: int = Field(default=3, ge=1, le=10)
    backoff_base_seconds: float = Field(default=0.1, ge=0, le=60)
    backoff_max_seconds: float = Field(default=2.0, ge=0, le=300)
    retry_after_max_seconds: float = Field(default=10.0, ge=0, le=600)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=0)
    breaker_failures: int = Field(default=5, ge=1, le=1000)
    breaker_failure_rate: float | None = Field(default=0.5, gt=0, le=1)
    breaker_window: int = Field(default=20, ge=2, le=10_000)
    breaker_cooldown_seconds: float = Field(default=5.0, gt=0, le=3600)


class WebhookSettings(BaseModel):
    """Outbound webhooks (kit.webhooks). `allow_private_targets`: deliver to loopback, private,
    link-local and other non-public addresses (off: such URLs are refused when registered and
    again when delivered, against the address actually resolved; tests and closed networks
    turn it on). `timeout_seconds`: one delivery attempt, body included; `max_response_bytes`:
    how much of a receiver's answer is read and kept. `pause_after_days`: an endpoint whose
    deliveries have all failed this long is paused with a reason. `sealing_keys`: the keys
    endpoint secrets are sealed with at rest, newest first (each 32+ characters; the first
    seals, all open); empty, one key derived from the service's secret key."""

    allow_private_targets: bool = False
    timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    max_response_bytes: int = Field(default=4096, ge=0, le=1_048_576)
    max_concurrency: int = Field(default=20, ge=1, le=1000)
    pause_after_days: float = Field(default=5.0, gt=0, le=90)
    sealing_keys: list[SecretStr] = Field(default_factory=list, max_length=10)

    @field_validator("sealing_keys")
    @classmethod
    def _long_enough(cls, keys: list[SecretStr]) -> list[SecretStr]:
        if any(len(key.get_secret_value()) < 32 for key in keys):
            raise ValueError("each sealing key has at least 32 characters")
        return keys
