"""The event-loop lag monitor: a task that sleeps `interval_seconds` and measures how late it
wakes. Every lag feeds the histogram; one above `warn_seconds` logs a warning on
"apiforge.looplag" naming the requests that were running then. Not for: finding which line
blocked (profile the named route) or metrics plumbing (it is handed an `observe` function).

While the loop is blocked nothing else runs, so the blocker is one of the requests in flight
when the monitor finally wakes, or one that finished after the monitor was due (a handler that
blocks and then returns without awaiting completes in the same loop step, before the monitor
runs). The monitor is therefore also a request observer, keeping the last few finishes.
"""

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from time import perf_counter

from apiforge.kit.asgi import Scope
from apiforge.kit.background import background_task
from apiforge.kit.route_template import route_template
from apiforge.kit.settings import LoopLagSettings

LOGGER = "apiforge.looplag"
# Finished requests remembered for naming a blocker, and routes named in one warning: a stall
# that long has one or a few culprits, not hundreds.
_RECENT = 64
_MAX_NAMED = 10

logger = logging.getLogger(LOGGER)


def describe(scopes: Iterable[Scope]) -> list[str]:
    """ "METHOD /route/{template}" for each request, each route once, in first-seen order."""
    named: dict[str, None] = {}
    for scope in scopes:
        named.setdefault(f"{scope['method']} {route_template(scope)}", None)
        if len(named) == _MAX_NAMED:
            break
    return list(named)


class LoopLagMonitor:
    """`in_flight`: the telemetry middleware's map of running requests. `observe`: where each
    measured lag goes (the histogram), or None without metrics. Its lifespan resource is
    `running`; it must also be among the telemetry middleware's observers."""

    def __init__(
        self,
        settings: LoopLagSettings,
        *,
        in_flight: Mapping[int, Scope],
        observe: Callable[[float], None] | None = None,
    ) -> None:
        self.interval = settings.interval_seconds
        self.warn_seconds = settings.warn_seconds
        self._in_flight = in_flight
        self._observe = observe
        self._finished: deque[tuple[float, Scope]] = deque(maxlen=_RECENT)

    def request_finished(self, scope: Scope, status: int, duration: float) -> None:
        self._finished.append((perf_counter(), scope))

    def measured(self, lag: float, due: float) -> None:
        """Records one measurement: the timer due at `due` (perf_counter) ran `lag` late."""
        if self._observe is not None:
            self._observe(lag)
        if lag < self.warn_seconds:
            return
        suspects = [
            *self._in_flight.values(),
            *(scope for finished_at, scope in self._finished if finished_at >= due),
        ]
        routes = describe(suspects)
        logger.warning(
            "event loop blocked for %.3f s; requests running then: %s",
            lag,
            ", ".join(routes) or "none",
            extra={"fields": {"lag_seconds": round(lag, 4), "routes": routes}},
        )

    async def run(self) -> None:
        while True:
            started = perf_counter()
            await asyncio.sleep(self.interval)
            due = started + self.interval
            # The loop may run a timer up to its clock resolution early: no negative lag.
            self.measured(max(perf_counter() - due, 0.0), due)

    @asynccontextmanager
    async def running(self, _state: object) -> AsyncIterator[None]:
        """The `LifespanResource` (any app state: the monitor needs none of it)."""
        async with background_task(self.run(), name="apiforge-loop-lag"):
            yield
