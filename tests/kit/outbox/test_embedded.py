"""`embedded_relay` as a lifespan resource of an app (the one-process default): an event a
request's transaction records reaches the app's in-process sink while the app runs; with
`events.embedded_relay` off nothing is relayed in the process."""

import asyncio
import contextvars

import pytest
from fastapi import APIRouter
from sqlalchemy import select

from apiforge.kit import (
    CallbackSink,
    EventsSettings,
    OutboxMessage,
    WriteSession,
    app_state,
    create_app,
    embedded_relay,
    record_event,
)
from apiforge.kit.jobs.worker import _IN_WORKER
from apiforge.kit.outbox.embedded import relays_here
from apiforge.kit.testing import bearer_headers
from tests.kit.apps import kit_settings, serve
from tests.kit.outbox.tables import Event, outbox_database

router = APIRouter()


@router.post("/things/{thing_id}")
async def change_thing(thing_id: int, session: WriteSession) -> dict[str, str]:
    event_id = await record_event(
        session,
        Event,
        type="thing.changed",
        aggregate_type="thing",
        aggregate_id=thing_id,
        payload={"thing_id": thing_id},
    )
    return {"event_id": event_id}


async def test_a_committed_event_reaches_the_in_process_sink(sqlite_url: str) -> None:
    received: asyncio.Queue[OutboxMessage] = asyncio.Queue()
    sink = CallbackSink("memory", received.put)
    settings = kit_settings(sqlite_url, events=EventsSettings(poll_interval_seconds=0.05))
    app = create_app(
        settings, routers=[router], lifespan_resources=[embedded_relay(Event, lambda _: [sink])]
    )
    async with outbox_database(sqlite_url), serve(app) as client:
        response = await client.post("/things/7", headers=bearer_headers(app, 1))
        assert response.status_code == 200, response.text
        async with asyncio.timeout(10):
            message = await received.get()
        assert message.event_id == response.json()["event_id"]
        assert message.data == {"thing_id": 7}
        assert _relay_tasks() == 1
    assert _relay_tasks() == 0  # stopped with the app


async def test_off_it_relays_nothing(sqlite_url: str) -> None:
    settings = kit_settings(sqlite_url, events=EventsSettings(embedded_relay=False))
    app = create_app(settings, routers=[router], lifespan_resources=[embedded_relay(Event)])
    async with outbox_database(sqlite_url), serve(app) as client:
        await client.post("/things/1", headers=bearer_headers(app, 1))
        async with app_state(app).database.read_session() as session:
            sent = (await session.execute(select(Event.sent_at))).scalars().all()
        assert _relay_tasks() == 0
    assert sent == [None]


def _relay_tasks() -> int:
    return sum(1 for task in asyncio.all_tasks() if task.get_name() == "outbox-relay")


async def test_by_default_it_relays_on_sqlite_only(kit_database_url: str) -> None:
    app = create_app(kit_settings(kit_database_url), lifespan_resources=[embedded_relay(Event)])
    async with outbox_database(kit_database_url), serve(app):
        expected = 1 if app_state(app).database.is_sqlite else 0
        assert _relay_tasks() == expected


@pytest.mark.parametrize(
    ("setting", "sqlite", "worker", "expected"),
    [
        (None, True, False, True),  # make run: the serving process relays
        (None, True, True, False),  # ... and a worker beside it does not (one writer)
        (None, False, False, False),  # PostgreSQL: the API's processes never wait on a broker
        (None, False, True, True),  # ... the worker relays
        (False, False, True, False),  # a separate `apiforge outbox relay` does
        (True, False, False, True),
    ],
)
def test_which_process_relays(
    setting: bool | None, sqlite: bool, worker: bool, expected: bool
) -> None:
    def decide() -> bool:
        _IN_WORKER.set(worker)
        return relays_here(EventsSettings(embedded_relay=setting), is_sqlite=sqlite)

    assert contextvars.copy_context().run(decide) is expected
