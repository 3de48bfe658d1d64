"""What a running job is given: the app's resources and which run this is. Not for: the
job's arguments (keyword arguments of the handler)."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: the state sits below the jobs
    from apiforge.kit.state import AppState


@dataclass(frozen=True, slots=True)
class JobContext:
    """`state`: the worker's `AppState` (database, Redis, HTTP client, settings...), built by
    the service's own lifespan. `attempt` counts from 1; `message_id` is the same for every
    attempt and redelivery of one enqueued job (a handler can key its idempotency on it);
    `request_id` is the enqueuing request's, also bound to the job's log lines."""

    state: "AppState"
    job: str
    attempt: int
    message_id: str
    request_id: str | None
