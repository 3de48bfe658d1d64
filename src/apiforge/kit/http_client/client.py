"""Outbound HTTP: an httpx.AsyncClient that always has timeouts and passes the current request
ID on as `X-Request-ID`, so a call to another service is traced to the request that made it.
Not for: retries or circuit breaking (kit.http_client.upstream adds them per upstream)."""

from functools import cache
from ssl import SSLContext

import httpx

from apiforge.kit.request_context import current_request_id

REQUEST_ID_HEADER = "X-Request-ID"
# Every network call has a timeout: a slow peer must not hold a request (or a worker) forever.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


async def add_request_id(request: httpx.Request) -> None:
    """Request hook: runs in the caller's task, so it sees the caller's request ID. A header
    the caller set explicitly is kept."""
    request_id = current_request_id()
    if request_id is not None and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = request_id


@cache
def _ssl_context() -> SSLContext:
    # Loading the CA bundle costs ~50 ms; one context serves every client of the process.
    return httpx.create_ssl_context()


def build_http_client(
    *,
    base_url: str = "",
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    headers: dict[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A client for the app's lifetime (open it in the lifespan, close it there): connections
    are pooled. `timeout` is required to bound every phase (connect, read, write, pool)."""
    if None in (timeout.connect, timeout.read, timeout.write, timeout.pool):
        raise ValueError("outbound HTTP needs a timeout on every phase")
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        headers=headers,
        transport=transport,
        verify=_ssl_context(),
        event_hooks={"request": [add_request_id]},
    )
