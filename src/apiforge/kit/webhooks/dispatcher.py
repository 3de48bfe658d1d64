"""Turning an event into deliveries: one `pending` row per active endpoint of the event's tenant
subscribed to its type, written in the caller's transaction. Not for: sending (kit.webhooks
.sender) or reading events off the outbox (the relay calls `accept`).

Accepting the same event twice (the relay publishes at least once) adds nothing the second
time: a delivery is unique per (endpoint, event id).
"""

import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit.db.base import utcnow
from apiforge.kit.db.tenants import cross_tenant, tenant_column
from apiforge.kit.redaction import _sensitive_key
from apiforge.kit.webhooks.models import EndpointStatus, WebhookDeliveryMixin, WebhookEndpointMixin

Clock = Callable[[], datetime]
logger = logging.getLogger("apiforge.webhooks")


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """An event as webhooks carry it: `id` unique per event (the outbox row's), `type`
    (`order.paid`), the owning `tenant_id` (None: an event of no tenant, such as a catalog
    change, offered to every tenant's endpoints subscribed to it), and `data`, the public
    payload: it goes to the receiver as is, so it must hold no secret."""

    id: str
    type: str
    tenant_id: int | None
    data: Mapping[str, Any]
    occurred_at: datetime = field(default_factory=utcnow)

    def body(self) -> str:
        """The JSON every receiver gets (Standard Webhooks' recommended envelope). Members
        under a key that names a secret (password, token, secret, api key...) are left out,
        with a warning naming the key: a payload leaves the service, so it is no place for
        one even by mistake."""
        data = _public(self.data, self.type)
        envelope = {"type": self.type, "timestamp": self.occurred_at.isoformat(), "data": data}
        return json.dumps(envelope, separators=(",", ":"), sort_keys=True, default=str)


def _public(value: Any, event_type: str) -> Any:
    if isinstance(value, Mapping):
        kept = {}
        for key, item in value.items():
            if _sensitive_key(str(key)):
                logger.warning("webhook %s: left out member %r (names a secret)", event_type, key)
                continue
            kept[key] = _public(item, event_type)
        return kept
    if isinstance(value, list | tuple):
        return [_public(item, event_type) for item in value]
    return value


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


class WebhookDispatcher:
    """The in-process sink the outbox relay hands events to. `endpoints` and `deliveries` are
    the service's mapped classes (kit.webhooks.models)."""

    def __init__(
        self,
        endpoints: type[WebhookEndpointMixin],
        deliveries: type[WebhookDeliveryMixin],
        *,
        clock: Clock = utcnow,
    ) -> None:
        self.endpoints = endpoints
        self.deliveries = deliveries
        self.clock = clock
        column = tenant_column(mapped_table(endpoints))
        if column is None:
            raise ValueError("the endpoints table must be tenant_owned(...)")
        self._tenant = column

    async def accept(self, session: AsyncSession, event: WebhookEvent) -> list[int]:
        """Add the event's deliveries (flushed, not committed) and return their ids; those
        already added for this event are left as they are."""
        endpoints = self.endpoints
        mine = () if event.tenant_id is None else (self._tenant == event.tenant_id,)
        query = cross_tenant(
            select(endpoints).where(*mine, endpoints.status == EndpointStatus.ACTIVE.value),
            reason="the relay dispatches an event to its own tenant's endpoints, outside requests",
        )
        subscribed = [e for e in (await session.scalars(query)).all() if e.subscribed(event.type)]
        if not subscribed:
            return []
        deliveries = self.deliveries
        done = set(
            await session.scalars(
                select(deliveries.endpoint_id).where(
                    deliveries.event_id == event.id,
                    deliveries.endpoint_id.in_([e.id for e in subscribed]),
                )
            )
        )
        body, now = event.body(), self.clock()
        rows = [
            {
                "endpoint_id": endpoint.id,
                "event_id": event.id,
                "message_id": new_message_id(),
                "event_type": event.type,
                "payload": body,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for endpoint in subscribed
            if endpoint.id not in done
        ]
        if not rows:
            return []
        table = mapped_table(deliveries)
        result = await session.execute(insert(table).returning(table.c.id), rows)
        return list(result.scalars())


def mapped_table(model: type[object]) -> Table:
    """The Core table a service mapped one of the mixins onto."""
    table = getattr(model, "__table__", None)
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table
