"""All webhook endpoints SQL: endpoints are tenant-owned, so every statement is scoped to the
organization; deliveries are reached only through an endpoint of that organization."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import TenantScope, scoped, table_of
from apiforge.shop.webhooks.models import WebhookDelivery, WebhookEndpoint

endpoints = table_of(WebhookEndpoint)
deliveries = table_of(WebhookDelivery)
AnyRow = Row[*tuple[Any, ...]]

_COLUMNS = (
    endpoints.c.id,
    endpoints.c.url,
    endpoints.c.description,
    endpoints.c.event_types,
    endpoints.c.status,
    endpoints.c.paused_reason,
    endpoints.c.failing_since,
    endpoints.c.created_at,
)
_BY_ID = endpoints.c.id == bindparam("endpoint_id")
_ADD = scoped(insert(endpoints).returning(*_COLUMNS), endpoints)
_LIST = scoped(select(*_COLUMNS).order_by(endpoints.c.id), endpoints)
_GET = scoped(select(*_COLUMNS).where(_BY_ID), endpoints)
_SET_STATUS = scoped(
    update(endpoints)
    .where(_BY_ID)
    .values(status=bindparam("status"), paused_reason=None, failing_since=None)
    .returning(*_COLUMNS),
    endpoints,
)
_DELETE = scoped(delete(endpoints).where(_BY_ID), endpoints)
_DELIVERY_COLUMNS = (
    deliveries.c.id,
    deliveries.c.endpoint_id,
    deliveries.c.event_id,
    deliveries.c.message_id,
    deliveries.c.event_type,
    deliveries.c.status,
    deliveries.c.attempts,
    deliveries.c.last_status_code,
    deliveries.c.last_error,
    deliveries.c.next_attempt_at,
    deliveries.c.delivered_at,
    deliveries.c.created_at,
)
_ORG_DELIVERIES = scoped(
    select(*_DELIVERY_COLUMNS)
    .join(endpoints, endpoints.c.id == deliveries.c.endpoint_id)
    .order_by(deliveries.c.id.desc())
    .limit(bindparam("limit")),
    endpoints,
)
_WITH_STATUS = deliveries.c.status == bindparam("status")
_DELIVERIES = (
    select(*_DELIVERY_COLUMNS)
    .where(deliveries.c.endpoint_id == bindparam("endpoint_id"))
    .order_by(deliveries.c.id.desc())
    .limit(bindparam("limit"))
)
_BEFORE = deliveries.c.id < bindparam("before_id")


class WebhookEndpointRepository:
    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        self.session = session
        self.params = scope.params

    async def add(self, *, url: str, description: str, event_types: str, secret: str) -> AnyRow:
        values = {
            **self.params,
            "url": url,
            "description": description,
            "event_types": event_types,
            "secret": secret,
            "status": "active",
        }
        return (await self.session.execute(_ADD, values)).one()

    async def all(self) -> Sequence[AnyRow]:
        return (await self.session.execute(_LIST, self.params)).all()

    async def get(self, endpoint_id: int) -> AnyRow | None:
        params = {**self.params, "endpoint_id": endpoint_id}
        return (await self.session.execute(_GET, params)).one_or_none()

    async def set_status(self, endpoint_id: int, status: str) -> AnyRow | None:
        """A new status; the pause's reason and failing window are cleared either way."""
        params = {**self.params, "endpoint_id": endpoint_id, "status": status}
        return (await self.session.execute(_SET_STATUS, params)).one_or_none()

    async def delete(self, endpoint_id: int) -> bool:
        params = {**self.params, "endpoint_id": endpoint_id}
        result = await self.session.execute(_DELETE, params)
        return bool(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult for DELETE

    async def deliveries(
        self, endpoint_id: int, *, before_id: int | None, limit: int
    ) -> Sequence[AnyRow]:
        """Newest first, keyset on id. The caller has checked the endpoint is the tenant's."""
        query = _DELIVERIES if before_id is None else _DELIVERIES.where(_BEFORE)
        params = {"endpoint_id": endpoint_id, "limit": limit, "before_id": before_id}
        return (await self.session.execute(query, params)).all()

    async def all_deliveries(
        self, *, status: str | None, before_id: int | None, limit: int
    ) -> Sequence[AnyRow]:
        """Every endpoint's deliveries of the tenant, newest first, keyset on id."""
        query = _ORG_DELIVERIES
        if status is not None:
            query = query.where(_WITH_STATUS)
        if before_id is not None:
            query = query.where(_BEFORE)
        params = {**self.params, "limit": limit, "before_id": before_id, "status": status}
        return (await self.session.execute(query, params)).all()
