"""A request-header deadline for Uvicorn, which has none (a client sending one byte every few
seconds holds its connection for as long as it likes: slowloris). Uvicorn's httptools protocol
with a timer from a connection's first moment, and from each kept-alive request's first byte,
to the end of that request's headers; when it fires the client gets a 408 and the connection
is closed. Granian has the same deadline itself (`--http1-header-read-timeout`).

Not for: bodies (the body read timeout is the kit's middleware, on any server). It subclasses
`HttpToolsProtocol` and overrides its parser callbacks, which are not a documented API: the
slow-client test on real processes (tests/faults/test_slow_clients.py) and
tests/kit/serving/test_header_deadline.py catch a Uvicorn release that changes them."""

import asyncio

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Sent before closing: a client that is merely slow learns why (RFC 9110, 408).
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 33\r\n"
    b"connection: close\r\n"
    b"\r\n"
    b"The request headers came too slow"
)


class KitUvicornConfig(uvicorn.Config):
    """Uvicorn's configuration plus the header deadline its protocol reads (a plain attribute:
    the supervisor pickles the configuration into each worker it spawns)."""

    header_read_timeout: float = 10.0


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` whose requests must have sent their headers within
    `config.header_read_timeout` seconds (`KitUvicornConfig`)."""

    def __init__(self, config: uvicorn.Config, *args: object, **kwargs: object) -> None:
        super().__init__(config, *args, **kwargs)  # type: ignore[arg-type]  # passed through as Uvicorn gives them
        self.header_read_timeout = getattr(config, "header_read_timeout", 10.0)
        self.header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as the base
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        # A kept-alive connection's next request: its own deadline from its first byte.
        if self.header_timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Idle between requests is the keep-alive timeout's business, not this one's.
        self._disarm()

    def _arm(self) -> None:
        self.header_timer = self.loop.call_later(self.header_read_timeout, self._expired)

    def _disarm(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _expired(self) -> None:
        self.header_timer = None
        if self.transport.is_closing():
            return
        # Only reached before a request's headers are complete: no response has started.
        self.transport.write(TIMEOUT_RESPONSE)
        self.transport.close()
