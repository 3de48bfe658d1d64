"""Outbound HTTP. `build_http_client` is the plain client (timeouts on every phase, the request
ID passed on); `Upstream` adds, per upstream: connection and concurrency caps, a time budget per
call, retries with jittered backoff for idempotent requests honouring `Retry-After`, a circuit
breaker, and counters. Not for: following redirects (an `Upstream` never does)."""

from apiforge.kit.http_client.client import (
    DEFAULT_TIMEOUT,
    REQUEST_ID_HEADER,
    add_request_id,
    build_http_client,
)
from apiforge.kit.http_client.errors import (
    UpstreamCircuitOpenError,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamTimeoutError,
)
from apiforge.kit.http_client.retries import IDEMPOTENT_METHODS, backoff, may_retry, retry_after
from apiforge.kit.http_client.upstream import Upstream, UpstreamStats, live_upstreams

__all__ = [
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "REQUEST_ID_HEADER",
    "Upstream",
    "UpstreamCircuitOpenError",
    "UpstreamConnectionError",
    "UpstreamError",
    "UpstreamStats",
    "UpstreamTimeoutError",
    "add_request_id",
    "backoff",
    "build_http_client",
    "live_upstreams",
    "may_retry",
    "retry_after",
]
