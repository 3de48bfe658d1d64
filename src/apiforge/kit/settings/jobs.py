"""The settings of work after the request: the job queue (`APIFORGE_JOBS__*`) and outgoing mail
(`APIFORGE_MAIL__*`). Not for: the jobs themselves (kit.jobs) or sending (kit.mail)."""

from typing import Literal

from pydantic import BaseModel, Field, SecretStr

BrokerKind = Literal["memory", "redis", "rabbitmq"]


class JobsSettings(BaseModel):
    """The job queue. `broker` unset picks Redis when `APIFORGE_REDIS_URL` is set, else the
    in-process broker (jobs run in the serving process: the embedded default). `url` is the
    broker's own URL (default: the Redis URL; required for RabbitMQ). A failed attempt is
    retried after `backoff_base_seconds * 2**(attempt-1)` (capped at `backoff_max_seconds`,
    full jitter) until `max_attempts`, then dead-lettered. `redelivery_after_seconds`: a
    message a worker took but never acknowledged (it died) is given to another after this
    long; keep it above the longest run of a job with its retries. `enabled` is off by default
    in the test environment (tests that run jobs turn it on). `embedded_scheduler`: with the
    in-process broker, the serving process also sends the scheduled jobs (there is no worker
    or `apiforge scheduler` beside it); unset, it does outside the test environment."""

    enabled: bool = True
    broker: BrokerKind | None = None
    url: SecretStr | None = None
    # Default from the service name: `<name>:jobs`.
    queue: str = Field(default="", max_length=200)
    max_attempts: int = Field(default=5, ge=1, le=100)
    timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    backoff_base_seconds: float = Field(default=1.0, ge=0, le=3600)
    backoff_max_seconds: float = Field(default=60.0, ge=0, le=3600)
    # Jobs one worker process runs at once (taskiq's max_async_tasks).
    concurrency: int = Field(default=16, ge=1, le=1000)
    processes: int = Field(default=1, ge=1, le=64)
    drain_timeout_seconds: float = Field(default=30.0, ge=0, le=3600)
    redelivery_after_seconds: float = Field(default=900.0, ge=1, le=86400)
    # The worker's own liveness/readiness and /metrics; None: no port.
    health_host: str = "0.0.0.0"  # noqa: S104  # probes reach the pod's IP
    health_port: int | None = Field(default=8081, ge=0, le=65535)
    embedded_scheduler: bool | None = None


MailSecurity = Literal["none", "starttls", "tls"]


class MailSettings(BaseModel):
    """Outgoing SMTP. `security`: `tls` (implicit TLS, port 465), `starttls` (upgrade on 587)
    or `none` (a local relay). `password` is a secret: never logged. `dev_sink` (default: on
    in development) starts an SMTP sink on `host:port` inside the serving process that logs
    each message's recipient and subject, so `make run` sends real SMTP nowhere."""

    host: str = "127.0.0.1"
    port: int = Field(default=1025, ge=1, le=65535)
    security: MailSecurity = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(default="shop@example.com", max_length=254)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    dev_sink: bool | None = None
