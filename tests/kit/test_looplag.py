"""The loop-lag monitor: a route that blocks the loop is named in the warning and the lag lands
in the histogram; a healthy loop logs nothing."""

import asyncio
import logging
import time

import pytest
from fastapi import APIRouter

from apiforge.kit.looplag import LOGGER, LoopLagMonitor, describe
from apiforge.kit.settings import LoopLagSettings
from tests.kit.apps import capture_kit_logs, http_scope, kit_app, serve
from tests.kit.metrics.scrape import scrape, value

router = APIRouter()
# Short ticks so a test observes several; a generous threshold so a busy CI machine stays quiet.
FAST = LoopLagSettings(interval_seconds=0.02, warn_seconds=0.2)


@router.get("/blocking/{name}")
async def blocking(name: str) -> dict[str, str]:
    time.sleep(0.5)  # noqa: ASYNC251  # the point: a handler that blocks the event loop
    return {"name": name}


@router.get("/fine")
async def fine() -> dict[str, str]:
    await asyncio.sleep(0.01)
    return {}


def lag_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


async def test_a_blocking_route_is_named(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    app = kit_app(sqlite_url, router, loop_lag=FAST)
    with capture_kit_logs(caplog):
        async with serve(app) as client:
            assert (await client.get("/blocking/x")).status_code == 200
            await asyncio.sleep(0.1)  # a few ticks: the monitor wakes late once, and reports
            samples = await scrape(client)
    warnings = lag_warnings(caplog)
    assert len(warnings) >= 1
    assert warnings[0].levelno == logging.WARNING
    assert "GET /blocking/{name}" in warnings[0].getMessage()
    fields = warnings[0].__dict__["fields"]  # the JSON line's structured part
    assert fields["routes"] == ["GET /blocking/{name}"]
    assert fields["lag_seconds"] >= FAST.warn_seconds
    assert value(samples, "apiforge_event_loop_lag_seconds_count") >= 2
    assert value(samples, "apiforge_event_loop_lag_seconds_bucket", le="+Inf") >= 2


async def test_a_healthy_loop_logs_nothing(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = kit_app(sqlite_url, router, loop_lag=FAST)
    with capture_kit_logs(caplog):
        async with serve(app) as client:
            for _ in range(5):
                assert (await client.get("/fine")).status_code == 200
            await asyncio.sleep(0.1)
    assert lag_warnings(caplog) == []


async def test_requests_still_in_flight_are_named(caplog: pytest.LogCaptureFixture) -> None:
    """A request that awaits after blocking is still running when the monitor wakes."""
    in_flight = {1: http_scope(method="POST", path="/x")}
    monitor = LoopLagMonitor(LoopLagSettings(warn_seconds=0.1), in_flight=in_flight)
    with capture_kit_logs(caplog):
        monitor.measured(0.3, due=time.perf_counter())
        monitor.measured(0.01, due=time.perf_counter())  # under the threshold: silent
    [warning] = lag_warnings(caplog)
    assert warning.getMessage().endswith("requests running then: POST <unmatched>")


async def test_a_stall_with_no_request_says_so(caplog: pytest.LogCaptureFixture) -> None:
    monitor = LoopLagMonitor(LoopLagSettings(warn_seconds=0.1), in_flight={})
    monitor.request_finished(http_scope(path="/long-ago"), 200, 0.1)  # finished before the due time
    with capture_kit_logs(caplog):
        monitor.measured(0.3, due=time.perf_counter())
    [warning] = lag_warnings(caplog)
    assert warning.getMessage().endswith("requests running then: none")


def test_each_route_is_named_once_and_the_list_is_bounded() -> None:
    scopes = [http_scope(method="GET", path="/a")] * 3 + [
        http_scope(method=f"M{i}", path="/b") for i in range(20)
    ]
    named = describe(scopes)
    assert named[0] == "GET <unmatched>"
    assert len(named) == 10


async def test_the_monitor_can_run_without_metrics(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from apiforge.kit.settings import MetricsSettings

    app = kit_app(sqlite_url, router, loop_lag=FAST, metrics=MetricsSettings(enabled=False))
    with capture_kit_logs(caplog):
        async with serve(app) as client:
            await client.get("/blocking/y")
            await asyncio.sleep(0.1)
    assert any("GET /blocking/{name}" in r.getMessage() for r in lag_warnings(caplog))
