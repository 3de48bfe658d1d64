"""Rate-limit policies as data: `Rate` ("20/s"), `RateLimitPolicy` and the settings section that
adjusts a service's policies by name; low in the kit so `Settings` validates them as it loads.
Not for: counting (`kit.ratelimit`)."""

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Annotated, Self

import orjson
from pydantic import BaseModel, BeforeValidator, Field
from pydantic_settings import NoDecode

_UNITS = {
    **dict.fromkeys(("s", "sec", "second"), 1),
    **dict.fromkeys(("m", "min", "minute"), 60),
    **dict.fromkeys(("h", "hour"), 3600),
    **dict.fromkeys(("d", "day"), 86400),
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*$")
_NAME = r"^[a-z][a-z0-9_]{0,62}$"


@dataclass(frozen=True, slots=True)
class Rate:
    """`limit` requests per `window` seconds, counted in a fixed window that opens with the
    first request it counts (so a burst of `limit` is always allowed, and the next request
    after it waits until the window closes). Written `"20/s"`, `"1000/h"`, `"5/15min"`,
    `"50/10s"` (units: s, m or min, h, d)."""

    limit: int
    window: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window < 1:
            raise ValueError(f"a rate needs limit >= 1 and window >= 1 s, not {self}")

    @classmethod
    def parse(cls, text: str) -> Self:
        match = _RATE.match(text.lower())
        unit = _UNITS.get(match.group(3)) if match else None
        if match is None or unit is None:
            raise ValueError(f"{text!r} is not a rate like 20/s, 1000/h or 5/15min")
        return cls(int(match.group(1)), int(match.group(2) or 1) * unit)

    @classmethod
    def parse_all(cls, text: str) -> tuple[Self, ...]:
        """Comma-separated rates: `"20/s, 1000/h"`."""
        return tuple(cls.parse(part) for part in text.split(",") if part.strip())

    @property
    def label(self) -> str:
        """The window as people write it: `1s`, `15min`, `1h`, `1d`."""
        for unit, seconds in (("d", 86400), ("h", 3600), ("min", 60)):
            if self.window % seconds == 0:
                return f"{self.window // seconds}{unit}"
        return f"{self.window}s"

    def __str__(self) -> str:
        return f"{self.limit}/{self.label}"


class LimitKey(StrEnum):
    """What a policy counts per. The first three come from the request's `Principal`; a
    policy on one of them does not apply to a principal without it (a user has no API key
    and no `tenant_id`)."""

    PRINCIPAL = "principal"  # Principal.subject: a user, or an API key's `key:<id>`
    API_KEY = "api_key"  # Principal.api_key_id
    ORGANIZATION = "organization"  # Principal.tenant_id: every key of one organization
    CLIENT_IP = "client_ip"  # the client's address (IPv6: its /64), see kit.proxies
    CUSTOM = "custom"  # a subject the service passes itself (e.g. an account + address)

    @property
    def needs_principal(self) -> bool:
        return self in (LimitKey.PRINCIPAL, LimitKey.API_KEY, LimitKey.ORGANIZATION)


class OnFailure(StrEnum):
    """What a policy counted in Redis does while Redis does not answer: `open` lets requests
    through (counted in the metrics, a warning logged once per outage), `closed` answers 503,
    `local` counts in this process instead (the same rates per process: an outage multiplies
    the allowance by the number of processes, but never lifts it)."""

    OPEN = "open"
    CLOSED = "closed"
    LOCAL = "local"


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """One limit, declared in code and adjustable in settings by its `name`.

    - `rates`: every window it enforces at once (`Rate.parse_all("20/s, 1000/h")`); a request
      is allowed only when each has room, and then counts in each.
    - `key`: what it counts per (`LimitKey`).
    - `on_failure`: what happens while Redis does not answer (`OnFailure`).
    - `local`: counted in this process only, never in Redis: no network round trip, exact per
      process but not across them (`on_failure` does not apply).
    - `enabled`: false lifts it."""

    name: str
    rates: tuple[Rate, ...]
    key: LimitKey
    on_failure: OnFailure = OnFailure.OPEN
    local: bool = False
    enabled: bool = True

    def __post_init__(self) -> None:
        if not re.match(_NAME, self.name):
            raise ValueError(f"policy name {self.name!r}: lowercase letters, digits and _")
        if not self.rates:
            raise ValueError(f"policy {self.name} needs at least one rate")

    def adjusted(self, settings: "RateLimitPolicySettings | None") -> "RateLimitPolicy":
        """This policy with the settings' values where they are set."""
        if settings is None:
            return self
        fields = type(settings).model_fields
        changes = {name: value for name in fields if (value := getattr(settings, name)) is not None}
        return replace(self, **changes) if changes else self


def _rates(value: object) -> object:
    """Rates from a string (`"5/15min, 100/h"` or a JSON list) or a list of strings."""
    if isinstance(value, str):
        value = orjson.loads(value) if value.lstrip().startswith("[") else value.split(",")
    if isinstance(value, list | tuple):
        return tuple(Rate.parse(v) if isinstance(v, str) else v for v in value if v != "")
    return value


class RateLimitPolicySettings(BaseModel):
    """Changes to one of the service's policies (`APIFORGE_RATELIMIT__POLICIES__<NAME>__...`):
    `rates` (`5/15min, 100/h`), `on_failure` (`open`, `closed`, `local`), `local`, `enabled`."""

    rates: Annotated[tuple[Rate, ...] | None, NoDecode, BeforeValidator(_rates)] = None
    on_failure: OnFailure | None = None
    local: bool | None = None
    enabled: bool | None = None


class RateLimitSettings(BaseModel):
    """Rate limits: on by default in every environment; `enabled=false` lifts them all (the
    bench does, all its load coming from one address). Counted in Redis when
    `APIFORGE_REDIS_URL` is set (exact across processes), else in process. A Redis call waits
    at most `timeout_seconds`; after a failure Redis is not asked again for
    `retry_after_seconds` (each policy's `on_failure` answers meanwhile). `policies` adjusts
    the service's policies by name; an unknown name stops the start."""

    enabled: bool = True
    # Default from the service name: `<name>:ratelimit:`.
    key_prefix: str = Field(default="apiforge:ratelimit:", min_length=1)
    timeout_seconds: float = Field(default=0.25, gt=0, le=5)
    retry_after_seconds: float = Field(default=1.0, gt=0, le=60)
    # Counters kept in process (local policies, and the fallback while Redis is down).
    max_local_keys: int = Field(default=100_000, ge=100)
    policies: dict[str, RateLimitPolicySettings] = Field(default_factory=dict)
