"""`RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers, -08 on) on every
answer a limit was decided for, whatever Response the route returned, and `Retry-After` on its
refusals. Not for: deciding (throttle.py)."""

from apiforge.kit.asgi import ASGIApp, Message, Receive, Scope, Send
from apiforge.kit.ratelimit.limiter import Decision
from apiforge.kit.ratelimit.protocol import Usage
from apiforge.kit.ratelimit.throttle import recorded, whole_seconds

_REFUSALS = (429, 503)


def rate_limit_headers(decisions: list[Decision], status: int) -> list[tuple[bytes, bytes]]:
    """The headers for an answer with `status` after `decisions` (later ones win per window):

        RateLimit-Policy: "writes/1s";q=20;w=1, "writes/1h";q=1000;w=3600
        RateLimit: "writes/1s";r=19;t=1, "writes/1h";r=999;t=3600
        Retry-After: 7                      (429 and 503 only)

    `r` is what remains in the window, `t` the seconds until it starts over (rounded up)."""
    windows: dict[str, Usage] = {}
    retry_after = 0.0
    for decision in decisions:
        retry_after = max(retry_after, decision.retry_after)
        for policy, usages in decision.usages:
            for usage in usages:
                windows[f"{policy.name}/{usage.rate.label}"] = usage
    headers = []
    if windows:
        quota = ", ".join(f'"{n}";q={u.rate.limit};w={u.rate.window}' for n, u in windows.items())
        state = ", ".join(
            f'"{n}";r={u.remaining};t={whole_seconds(u.reset_after)}' for n, u in windows.items()
        )
        headers += [(b"ratelimit-policy", quota.encode()), (b"ratelimit", state.encode())]
    if status in _REFUSALS and retry_after > 0:
        headers.append((b"retry-after", str(whole_seconds(retry_after)).encode()))
    return headers


class RateLimitHeadersMiddleware:
    """Adds the headers of the decisions recorded in the request's scope (by `rate_limit`
    dependencies and `Throttle.enforce` calls) to its answer; an answer with none passes
    untouched. Inside the front cache (whose hits are never limited) and outside GZip."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                decisions = recorded(scope)
                if decisions:
                    headers = list(message.get("headers", ()))
                    added = rate_limit_headers(decisions, message["status"])
                    if any(name == b"retry-after" for name, _ in headers):
                        added = [h for h in added if h[0] != b"retry-after"]
                    message["headers"] = headers + added
            await send(message)

        await self.app(scope, receive, send_with_headers)
