"""Scenarios as data: `bench/scenarios/*.toml` parsed and validated into `Scenario`.

A scenario names its requests (method, path template, body template, weight), the closed-loop
settings for wrk, the open-loop rate for latency, its SLO, and any set-up it needs. Templates
use `{id}` (a product id drawn from `ids`) and `{term}` (a word from `terms`).
"""

import json
import random
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}
# Pre-rendered variants per request template: enough for the cache to see many keys.
VARIANTS = 50


def parse_duration(text: str | float) -> float:
    """Seconds from `10s`, `500ms`, `1m` or a bare number of seconds."""
    if isinstance(text, int | float):
        return float(text)
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (e.g. 10s, 500ms, 1m)")
    return float(match.group(1)) * _UNITS[match.group(2)]


Seconds = Annotated[float, Field(gt=0, le=3600)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Slo(_Strict):
    p50_ms: float = Field(default=50, gt=0)
    p99_ms: float = Field(default=200, gt=0)
    max_error_rate: float = Field(default=0.001, ge=0, le=1)


class Setup(_Strict):
    """Done once per target before the load: `restock` raises the stock of products in
    [lo, hi] (as the demo admin) so checkouts never run out; `orders` places that many orders
    for the demo customer so `GET /api/orders` has full pages; `organization_orders` places
    that many on the demo organization's account (the customer owns it), for its listing."""

    restock: tuple[int, int] | None = None
    orders: int = Field(default=0, ge=0, le=1000)
    organization_orders: int = Field(default=0, ge=0, le=1000)


class RequestSpec(_Strict):
    name: str = Field(min_length=1, max_length=40)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str = Field(pattern=r"^/")
    body: str | None = None
    weight: int = Field(default=1, ge=1, le=100)
    ids: tuple[int, int] = (1, 1)
    # How ids are drawn from `ids`: uniformly, or Zipf-distributed with exponent `zipf_s`
    # (id `lo` the most popular), the long tail a real catalog sees.
    distribution: Literal["uniform", "zipf"] = "uniform"
    zipf_s: float = Field(default=1.1, gt=0, le=10)
    # Distinct concrete requests drawn: raise it to spread over a whole catalog.
    variants: int = Field(default=VARIANTS, ge=1, le=100_000)
    terms: tuple[str, ...] = ("laptop",)

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        if not 1 <= self.ids[0] <= self.ids[1]:
            raise ValueError(f"ids must be [lo, hi] with 1 <= lo <= hi, got {list(self.ids)}")
        if not self.terms:
            raise ValueError("terms must not be empty")
        return self


class Background(_Strict):
    """Requests sent at a fixed rate alongside the closed-loop rounds (e.g. 2 logins/s during
    the catalog load), to measure what they do to the main load's latency."""

    rate: float = Field(gt=0, le=10_000)
    connections: int = Field(default=4, ge=1, le=1000)
    requests: list[RequestSpec] = Field(min_length=1)


class Goals(_Strict):
    """Performance goals for the shop in this scenario, checked on the closed-loop medians
    and reported beside the SLO: a ratio to the baseline, a p99, an error budget, and
    limits relative to another scenario of the same run (`compare_to`)."""

    min_ratio: float | None = Field(default=None, gt=0)
    # The same, over the `db` baseline (the scenario sets `db_baseline = true`).
    min_db_ratio: float | None = Field(default=None, gt=0)
    max_p99_ms: float | None = Field(default=None, gt=0)
    max_errors: int | None = Field(default=None, ge=0)
    compare_to: str | None = None
    max_rps_drop: float | None = Field(default=None, ge=0, le=1)
    max_p99_increase: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _comparison_needs_a_scenario(self) -> Self:
        relative = self.max_rps_drop is not None or self.max_p99_increase is not None
        if relative and self.compare_to is None:
            raise ValueError("max_rps_drop and max_p99_increase need compare_to")
        return self


class Scenario(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str = ""
    # "customer": the demo customer's bearer token; "api_key": an API key of the demo
    # organization (`orders:read`, `orders:write`), sent as X-API-Key.
    auth: Literal["none", "customer", "api_key"] = "none"
    requests: list[RequestSpec] = Field(min_length=1)
    connections: int = Field(default=64, ge=1, le=10_000)
    threads: int = Field(default=1, ge=1, le=64)
    duration: Seconds = 10.0
    warmup: float = Field(default=2.0, ge=0, le=600)
    rate: float = Field(default=300, ge=0, le=100_000)
    open_duration: Seconds = 5.0
    open_connections: int = Field(default=32, ge=1, le=1000)
    slo: Slo = Slo()
    setup: Setup = Setup()
    background: Background | None = None
    goals: Goals | None = None
    # Also measure the `db` baseline (raw asyncpg on the shop's database) for this scenario:
    # for uncached reads, what the database work should cost.
    db_baseline: bool = False

    @model_validator(mode="before")
    @classmethod
    def _durations(cls, data: object) -> object:
        if isinstance(data, dict):
            for key in ("duration", "warmup", "open_duration"):
                if isinstance(data.get(key), str):
                    data = {**data, key: parse_duration(data[key])}
        return data

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [r.name for r in self.requests]
        if len(set(names)) != len(names):
            raise ValueError(f"request names must be unique: {names}")
        return self


@dataclass(frozen=True, slots=True)
class ConcreteRequest:
    """One request ready to send: a template with its placeholders filled."""

    name: str
    method: str
    path: str
    body: str | None


def _fill(template: str, product_id: int, term: str) -> str:
    return template.replace("{id}", str(product_id)).replace("{term}", term)


def _ids(spec: RequestSpec, count: int, rng: random.Random) -> list[int]:
    lo, hi = spec.ids
    if spec.distribution == "uniform":
        return [rng.randint(lo, hi) for _ in range(count)]
    weights = [rank**-spec.zipf_s for rank in range(1, hi - lo + 2)]
    return rng.choices(range(lo, hi + 1), weights=weights, k=count)


def expand(spec: RequestSpec, count: int | None = None, seed: int = 1) -> list[ConcreteRequest]:
    """`count` (default: the spec's `variants`) concrete variants of a template (ids and terms
    drawn reproducibly)."""
    rng = random.Random(f"{seed}:{spec.name}")  # noqa: S311  # reproducible, not a secret
    count = spec.variants if count is None else count
    out = []
    for i, product_id in enumerate(_ids(spec, count, rng)):
        term = spec.terms[i % len(spec.terms)]
        body = None if spec.body is None else _fill(spec.body, product_id, term)
        out.append(
            ConcreteRequest(spec.name, spec.method, _fill(spec.path, product_id, term), body)
        )
    return out


def weighted_mix(
    scenario: Scenario | Background, slots_per_weight: int = 20, password: str = ""
) -> list[ConcreteRequest]:
    """A flat list in which each request appears in proportion to its weight, so a load
    generator picks uniformly from it (O(1) per request, in Lua as in Python). `{password}`
    in a body becomes the demo password (JSON-escaped)."""
    mix: list[ConcreteRequest] = []
    secret = json.dumps(password)[1:-1]
    # Enough slots that a request asking for more than the usual variants gets each once
    # (the usual mix, 20 slots a weight, stays as it was, so earlier figures stay comparable).
    wide = [s for s in scenario.requests if s.variants > VARIANTS]
    scale = max((-(-s.variants // (s.weight * slots_per_weight)) for s in wide), default=1)
    for spec in scenario.requests:
        variants = [
            v if v.body is None else replace(v, body=v.body.replace("{password}", secret))
            for v in expand(spec)
        ]
        slots = spec.weight * slots_per_weight * scale
        mix.extend(variants[i % len(variants)] for i in range(slots))
    return mix


def load_scenario(path: Path) -> Scenario:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    data.setdefault("name", path.stem)
    return Scenario.model_validate(data)


def discover(directory: Path, names: list[str] | None = None) -> list[Scenario]:
    """The scenarios in `directory` (all of them, by name, or the ones named), validated."""
    available = {p.stem: p for p in sorted(directory.glob("*.toml"))}
    wanted = names or sorted(available)
    missing = [n for n in wanted if n not in available]
    if missing:
        raise ValueError(f"unknown scenario(s) {missing}; available: {sorted(available)}")
    return [load_scenario(available[n]) for n in wanted]
