"""Adds static security headers to every HTTP answer; the lists are built once in `__init__`.
A JSON API needs no Content-Security-Policy allowances, so its answers get the strictest one;
the offline docs pages (Swagger UI's and ReDoc's own script and styles, served by the app
itself, Swagger UI's inline set-up, ReDoc's blob workers) get the least they need to work.
Not for: CORS (kit.middleware's CORS layer, from `settings.cors`)."""

from collections.abc import Sequence

from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send

DEFAULT_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'"
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeadersMiddleware:
    """`hsts`: add Strict-Transport-Security (production). `docs_prefixes`: paths of the
    docs pages and their assets, which get the docs' CSP."""

    def __init__(
        self, app: ASGIApp, *, hsts: bool = False, docs_prefixes: Sequence[str] = ()
    ) -> None:
        self.app = app
        common = DEFAULT_HEADERS + ((HSTS,) if hsts else ())
        self.headers = (*common, (b"content-security-policy", API_CSP))
        self.docs_headers = (*common, (b"content-security-policy", DOCS_CSP))
        self.docs_prefixes = tuple(docs_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = self.docs_prefixes and scope["path"].startswith(self.docs_prefixes)
        headers = self.docs_headers if docs else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
