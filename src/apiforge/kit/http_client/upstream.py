"""A resilient client for one upstream: its own connection pool and concurrency cap, a time
budget per call, retries with jittered backoff for idempotent requests (honouring
`Retry-After`), and a circuit breaker (kit.breaker) in front. Not for: deciding what is safe to
repeat beyond HTTP's rules (send an Idempotency-Key to make a POST retryable).

Every call returns or raises within its budget: a hung upstream, a slow body or a full pool
cost at most `budget_seconds`, after which `UpstreamTimeoutError` is raised. Redirects are
never followed (the caller decides where to go), and a body is read up to `max_body_bytes`.
"""

import asyncio
import logging
import random
import weakref
from dataclasses import dataclass, field
from typing import Any

import httpx

from apiforge.kit.breaker import BreakerState, CircuitBreaker
from apiforge.kit.http_client.client import build_http_client
from apiforge.kit.http_client.errors import (
    UpstreamCircuitOpenError,
    UpstreamConnectionError,
    UpstreamTimeoutError,
)
from apiforge.kit.http_client.retries import RETRY_STATUSES, backoff, may_retry, retry_after
from apiforge.kit.settings.outbound import HttpClientSettings

logger = logging.getLogger("apiforge.http_client")
# Headers that describe the bytes on the wire, no longer true of the body read and decoded here.
_WIRE_HEADERS = ("content-encoding", "content-length", "transfer-encoding")
# Every open Upstream of the process, for the metrics sampler (kit.metrics.upstream); weak, so
# an upstream's lifetime stays its owner's business.
_LIVE: "weakref.WeakSet[Upstream]" = weakref.WeakSet()


def live_upstreams() -> list["Upstream"]:
    """The process's open upstreams (closed ones are dropped)."""
    return [upstream for upstream in list(_LIVE) if not upstream.client.is_closed]


@dataclass
class UpstreamStats:
    """Plain counters per upstream (cheap on the call path; the metrics read them).
    `calls`: calls made; `attempts`: requests sent; `retries`: attempts after the first;
    `failures`: attempts that failed (transport error, 5xx, budget); `rejected`: calls the
    open breaker refused; `timeouts`: calls that ran out of budget; `truncated`: bodies cut
    at the cap."""

    name: str
    calls: int = 0
    attempts: int = 0
    retries: int = 0
    failures: int = 0
    rejected: int = 0
    timeouts: int = 0
    truncated: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


class Upstream:
    """Calls to one upstream named `name` (a bounded label: a service, not a URL). Open it for
    the app's lifetime and `aclose()` it there. `transport` is for tests; `rng` makes the
    jitter reproducible."""

    def __init__(
        self,
        name: str,
        policy: HttpClientSettings | None = None,
        *,
        base_url: str = "",
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.policy = policy = policy or HttpClientSettings()
        self.stats = UpstreamStats(name)
        self.breaker = CircuitBreaker(
            name,
            failures=policy.breaker_failures,
            failure_rate=policy.breaker_failure_rate,
            window=policy.breaker_window,
            cooldown=policy.breaker_cooldown_seconds,
            subject="upstream",
            logger=logger,
        )
        per_attempt = policy.read_timeout_seconds
        self.client = build_http_client(
            base_url=base_url,
            headers=headers,
            transport=transport
            or httpx.AsyncHTTPTransport(
                limits=httpx.Limits(
                    max_connections=policy.max_connections,
                    max_keepalive_connections=policy.max_connections,
                )
            ),
            timeout=httpx.Timeout(
                per_attempt,
                connect=policy.connect_timeout_seconds,
                pool=policy.budget_seconds,
            ),
        )
        self._slots = asyncio.Semaphore(policy.max_concurrency)
        _LIVE.add(self)
        self._rng = rng or random.Random()  # noqa: S311  # jitter, not cryptography

    @property
    def circuit(self) -> BreakerState:
        return self.breaker.state

    async def request(
        self,
        method: str,
        url: str,
        *,
        budget: float | None = None,
        max_body_bytes: int | None = None,
        attempts: int | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send `method url` (httpx's keyword arguments: `content`, `json`, `headers`,
        `extensions`, ...) and return the response, its body read (up to the cap). Raises an
        `UpstreamError`: circuit open, budget exceeded, or the transport failing on every
        attempt allowed. A 4xx/5xx answer is returned, after the retries it allows."""
        request = self.client.build_request(method, url, **kwargs)
        allowed = (attempts or self.policy.attempts) if may_retry(request) else 1
        limit = self.policy.max_body_bytes if max_body_bytes is None else max_body_bytes
        seconds = self.policy.budget_seconds if budget is None else budget
        self.stats.calls += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        try:
            async with asyncio.timeout_at(deadline), self._slots:
                return await self._attempts(request, allowed, limit, deadline)
        except TimeoutError as exc:
            self.stats.timeouts += 1
            self.stats.failures += 1
            self.breaker.failed(exc)
            raise UpstreamTimeoutError(
                self.name, f"{self.name} gave no answer within {seconds:g} s"
            ) from exc

    async def _attempts(
        self, request: httpx.Request, allowed: int, limit: int, deadline: float
    ) -> httpx.Response:
        loop = asyncio.get_running_loop()
        for attempt in range(1, allowed + 1):
            if not self.breaker.allows():
                self.stats.rejected += 1
                raise UpstreamCircuitOpenError(
                    self.name, f"{self.name} is failing; not called during its cool-down"
                )
            if attempt > 1:
                self.stats.retries += 1
            self.stats.attempts += 1
            try:
                response = await self._send(request, limit)
            except httpx.TransportError as exc:
                self.stats.failures += 1
                self.breaker.failed(exc)
                if attempt == allowed:
                    raise UpstreamConnectionError(
                        self.name, f"{self.name}: {type(exc).__name__}"
                    ) from exc
                wait = self._backoff(attempt)
            else:
                self._record(response)
                asked = self._wait_before_retry(response, attempt)
                if attempt == allowed or asked is None or loop.time() + asked >= deadline:
                    return response
                wait = asked
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    def _record(self, response: httpx.Response) -> None:
        statuses = self.stats.statuses
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        # A 5xx is the upstream failing; a 4xx (429 included) is it answering about our request.
        if response.status_code >= 500:
            self.stats.failures += 1
            self.breaker.failed(RuntimeError(f"HTTP {response.status_code}"))
        else:
            self.breaker.succeeded()

    def _wait_before_retry(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying this answer, None when it is final."""
        if response.status_code not in RETRY_STATUSES:
            return None
        asked = retry_after(response)
        if asked is None:
            return self._backoff(attempt)
        return asked if asked <= self.policy.retry_after_max_seconds else None

    def _backoff(self, attempt: int) -> float:
        policy = self.policy
        return backoff(
            attempt, base=policy.backoff_base_seconds, cap=policy.backoff_max_seconds, rng=self._rng
        )

    async def _send(self, request: httpx.Request, limit: int) -> httpx.Response:
        """One attempt; the body is read here, so a slow body counts against the budget."""
        response = await self.client.send(request, stream=True, follow_redirects=False)
        try:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    self.stats.truncated += 1
                    break
        finally:
            await response.aclose()
        headers = [(k, v) for k, v in response.headers.multi_items() if k not in _WIRE_HEADERS]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=b"".join(chunks)[:limit],
            request=request,
            extensions={"http_version": response.extensions.get("http_version", b"HTTP/1.1")},
        )

    async def aclose(self) -> None:
        await self.client.aclose()
