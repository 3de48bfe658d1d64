"""The telemetry middleware times each HTTP request once for every observer, keeps the shared
map of requests in flight, and reports requests by route template."""

import asyncio

import pytest

from apiforge.kit.asgi import Receive, Scope, Send
from apiforge.kit.middleware.telemetry import (
    ROUTE_TEMPLATE_STATE,
    UNMATCHED,
    RequestTelemetryMiddleware,
    route_template,
)
from tests.kit.apps import call_asgi, http_scope, responder


class Recorder:
    def __init__(self) -> None:
        self.finished: list[tuple[str, int, float]] = []

    def request_finished(self, scope: Scope, status: int, duration: float) -> None:
        self.finished.append((scope["path"], status, duration))


async def test_every_observer_sees_each_request_once() -> None:
    first, second = Recorder(), Recorder()
    app = RequestTelemetryMiddleware(responder(404), observers=[first, second])
    await call_asgi(app, http_scope(path="/a"))
    assert [(path, status) for path, status, _ in first.finished] == [("/a", 404)]
    assert first.finished == second.finished
    assert first.finished[0][2] >= 0


async def test_the_in_flight_map_is_the_one_passed_in() -> None:
    in_flight: dict[int, Scope] = {}
    seen: list[list[str]] = []

    async def look(scope: Scope) -> None:
        seen.append([s["path"] for s in in_flight.values()])

    app = RequestTelemetryMiddleware(
        responder(before=look), observers=[Recorder()], in_flight=in_flight
    )
    await asyncio.gather(call_asgi(app, http_scope(path="/x")), call_asgi(app, http_scope()))
    assert seen[0] in (["/x"], ["/x", "/"])
    assert app.in_flight is in_flight
    assert in_flight == {}


async def test_a_failing_app_is_reported_as_500_and_leaves_the_map() -> None:
    recorder = Recorder()

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    app = RequestTelemetryMiddleware(failing, observers=[recorder])
    with pytest.raises(RuntimeError):
        await call_asgi(app, http_scope())
    assert [status for _, status, _ in recorder.finished] == [500]
    assert app.in_flight == {}


async def test_other_scopes_pass_through_unobserved() -> None:
    recorder = Recorder()
    called: list[str] = []

    async def lifespan_app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope["type"])

    app = RequestTelemetryMiddleware(lifespan_app, observers=[recorder])
    await app({"type": "lifespan"}, _never, _ignore)
    assert called == ["lifespan"]
    assert recorder.finished == []


def test_route_templates() -> None:
    class Route:
        path = "/items/{item_id}"

    assert route_template({**http_scope(), "route": Route()}) == "/items/{item_id}"
    assert route_template(http_scope()) == UNMATCHED
    assert route_template({**http_scope(), "state": {}}) == UNMATCHED
    pinned = {**http_scope(), "state": {ROUTE_TEMPLATE_STATE: "/cached/{key}"}}
    assert route_template(pinned) == "/cached/{key}"


async def _never() -> dict[str, str]:  # pragma: no cover  # never called
    raise AssertionError


async def _ignore(message: object) -> None:  # pragma: no cover  # never called
    raise AssertionError
