"""What a resilient outbound call raises when it gives no answer. Not for: answers the upstream
gave (a 4xx or 5xx response is returned, not raised).

    ServiceUnavailableError (503)
    └── UpstreamError (502, "upstream.failed")
        ├── UpstreamCircuitOpenError (503): the breaker is open, nothing was sent
        ├── UpstreamTimeoutError (504): the call's time budget ran out
        └── UpstreamConnectionError (502): the transport failed on every attempt allowed
"""

from apiforge.kit.errors import ServiceUnavailableError


class UpstreamError(ServiceUnavailableError):
    """502: an upstream gave no usable answer; `upstream` names it."""

    status = 502
    code = "upstream.failed"
    title = "Bad Gateway"

    def __init__(self, upstream: str, detail: str) -> None:
        super().__init__(detail)
        self.upstream = upstream


class UpstreamCircuitOpenError(UpstreamError):
    """503: the upstream failed repeatedly and is not called until its cool-down ends."""

    status = 503
    code = "upstream.circuit_open"
    title = "Service Unavailable"


class UpstreamTimeoutError(UpstreamError):
    """504: the call (slot wait, attempts, backoff and body) exceeded its budget."""

    status = 504
    code = "upstream.timeout"
    title = "Gateway Timeout"


class UpstreamConnectionError(UpstreamError):
    """502: connecting, sending or reading failed (reset, refused, protocol error)."""

    code = "upstream.connection_failed"
