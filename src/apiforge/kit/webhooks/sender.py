"""Sending one delivery: claim it (a lease, so two workers never send the same attempt), check
the target again (SSRF, against the address resolved now), POST the signed payload through an
`Upstream` that follows no redirect and reads at most a few KiB back, then record the outcome
and schedule the next attempt (kit.webhooks.schedule) or pause an endpoint failing for too long.
Not for: deciding which endpoints get an event (kit.webhooks.dispatcher).

Idempotent by design, so a job queue may run it twice: a delivery that succeeded, failed for
good or is leased by another worker is not sent again. No transaction is held open while the
receiver is called.
"""

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit.db.base import utcnow
from apiforge.kit.db.database import Database
from apiforge.kit.db.tenants import cross_tenant
from apiforge.kit.http_client import Upstream, UpstreamError
from apiforge.kit.settings.outbound import HttpClientSettings, WebhookSettings
from apiforge.kit.webhooks.dispatcher import Clock, mapped_table
from apiforge.kit.webhooks.models import (
    DeliveryStatus,
    EndpointStatus,
    WebhookDeliveryMixin,
    WebhookEndpointMixin,
)
from apiforge.kit.webhooks.schedule import next_attempt
from apiforge.kit.webhooks.sealing import SealedSecretError, SecretSealer
from apiforge.kit.webhooks.signature import signature_headers
from apiforge.kit.webhooks.targets import Target, WebhookTargetError, resolve_target

logger = logging.getLogger("apiforge.webhooks")
Resolver = Callable[[str], Awaitable[Target]]
USER_AGENT = "apiforge-webhooks/1"
_WHY = "a delivery job names its delivery by id; the row says whose it is"


class Outcome(StrEnum):
    """What `deliver` did: `sent` (2xx), `retrying` (failed, another attempt is scheduled),
    `failed` (the schedule is used up), or why nothing was sent: `done`, `not_due`, `leased`
    (another worker holds it), `endpoint_inactive` (paused or disabled), `missing`."""

    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    DONE = "done"
    NOT_DUE = "not_due"
    LEASED = "leased"
    ENDPOINT_INACTIVE = "endpoint_inactive"
    MISSING = "missing"


def webhook_upstream(settings: WebhookSettings) -> Upstream:
    """The client deliveries go through: one attempt per delivery (the schedule retries), a
    budget of `timeout_seconds`, and no breaker across receivers (one receiver failing must not
    stop the others; pausing plays the breaker's part per endpoint)."""
    policy = HttpClientSettings(
        max_connections=settings.max_concurrency,
        max_concurrency=settings.max_concurrency,
        read_timeout_seconds=settings.timeout_seconds,
        budget_seconds=settings.timeout_seconds,
        attempts=1,
        max_body_bytes=settings.max_response_bytes,
        breaker_failures=1000,
        breaker_failure_rate=None,
    )
    return Upstream("webhooks", policy, headers={"User-Agent": USER_AGENT})


class WebhookSender:
    """Delivers the service's `deliveries` rows (mapped mixins) on `database`. `sealer` opens
    endpoint secrets sealed at rest (None: they are stored as is). `clock` is injectable so
    tests walk the retry schedule; `resolve` too (tests point a name at a private address)."""

    def __init__(
        self,
        database: Database,
        endpoints: type[WebhookEndpointMixin],
        deliveries: type[WebhookDeliveryMixin],
        settings: WebhookSettings,
        *,
        upstream: Upstream | None = None,
        clock: Clock = utcnow,
        resolve: Resolver | None = None,
        sealer: SecretSealer | None = None,
    ) -> None:
        self.database = database
        self.endpoints = endpoints
        self.deliveries = deliveries
        self.settings = settings
        self.upstream = upstream or webhook_upstream(settings)
        self.clock = clock
        self.sealer = sealer
        allow = settings.allow_private_targets
        self._resolve = resolve or (lambda url: resolve_target(url, allow_private=allow))
        self._table = mapped_table(deliveries)
        # Longer than one attempt can take, so a lease outlives the call it guards.
        self._lease = timedelta(seconds=settings.timeout_seconds * 2 + 30)

    async def deliver(self, delivery_id: int) -> Outcome:
        """One attempt of one delivery, if it is due and nobody else holds it."""
        now = self.clock()
        async with self.database.transaction() as session:
            outcome = await self._claim(session, delivery_id, now)
            if outcome is not None:
                return outcome
            delivery, endpoint = await self._load(session, delivery_id)
            if endpoint.status != EndpointStatus.ACTIVE.value:
                delivery.locked_until = None
                return Outcome.ENDPOINT_INACTIVE
            url, stored, message_id = endpoint.url, endpoint.secret, delivery.message_id
            body = delivery.payload.encode()
        status: int | None
        error: str | None
        try:
            secret = stored if self.sealer is None else self.sealer.open(stored)
        except SealedSecretError as exc:
            # Recorded as the attempt's failure, where the owner sees it in the deliveries.
            status, error = None, f"not signed: {exc}"
        else:
            status, error = await self._send(url, secret, message_id, body)
        async with self.database.transaction() as session:
            return await self._record(session, delivery_id, status, error)

    async def due(self, *, limit: int = 100) -> list[int]:
        """Ids of pending deliveries whose next attempt is due, oldest first."""
        d = self.deliveries
        async with self.database.transaction(write=False) as session:
            rows = await session.scalars(
                select(d.id)
                .where(d.status == DeliveryStatus.PENDING.value, d.next_attempt_at <= self.clock())
                .order_by(d.next_attempt_at, d.id)
                .limit(limit)
            )
            return list(rows)

    async def deliver_due(self, *, limit: int = 100) -> dict[int, Outcome]:
        """Send every due delivery once (what a periodic job runs)."""
        return {
            delivery_id: await self.deliver(delivery_id)
            for delivery_id in await self.due(limit=limit)
        }

    async def _claim(
        self, session: AsyncSession, delivery_id: int, now: datetime
    ) -> Outcome | None:
        """Take the lease in one conditional UPDATE (atomic on SQLite and PostgreSQL); None
        when taken, else why not."""
        c = self._table.c
        claimed = await session.execute(
            update(self._table)
            .where(
                c.id == delivery_id,
                c.status == DeliveryStatus.PENDING.value,
                c.next_attempt_at <= now,
                or_(c.locked_until.is_(None), c.locked_until < now),
            )
            .values(locked_until=now + self._lease)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]  # a CursorResult for UPDATE
            return None
        row = (
            await session.execute(
                select(c.status, c.next_attempt_at, c.locked_until).where(c.id == delivery_id)
            )
        ).first()
        if row is None:
            return Outcome.MISSING
        if row.status != DeliveryStatus.PENDING.value:
            return Outcome.DONE
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return Outcome.NOT_DUE
        return Outcome.LEASED

    async def _load(
        self, session: AsyncSession, delivery_id: int
    ) -> tuple[WebhookDeliveryMixin, WebhookEndpointMixin]:
        d, e = self.deliveries, self.endpoints
        row = (
            await session.execute(
                cross_tenant(
                    cast(
                        "Select[Any]",
                        select(d, e).join(e, e.id == d.endpoint_id).where(d.id == delivery_id),
                    ),
                    reason=_WHY,
                )
            )
        ).one()
        return row[0], row[1]

    async def _send(
        self, url: str, secret: str, message_id: str, body: bytes
    ) -> tuple[int | None, str | None]:
        """(status, error): the receiver's status, or None with why nothing was received. The
        secret and the payload never appear in the error."""
        try:
            target = await self._resolve(url)
        except WebhookTargetError as exc:
            return None, f"refused: {exc.detail}"
        headers = signature_headers([secret], message_id, body)
        headers |= {"Content-Type": "application/json", "Host": _host_header(target)}
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        try:
            response = await self.upstream.request(
                "POST", target.pinned_url(), content=body, headers=headers, extensions=extensions
            )
        except UpstreamError as exc:
            return None, exc.detail
        if 200 <= response.status_code < 300:
            return response.status_code, None
        snippet = response.content[:200].decode("utf-8", "replace")
        printable = "".join(ch if ch.isprintable() else " " for ch in snippet)
        return response.status_code, f"HTTP {response.status_code}: {printable}".strip()

    async def _record(
        self, session: AsyncSession, delivery_id: int, status: int | None, error: str | None
    ) -> Outcome:
        delivery, endpoint = await self._load(session, delivery_id)
        now = self.clock()
        delivery.attempts += 1
        delivery.last_status_code = status
        delivery.last_error = error[:500] if error else None
        delivery.locked_until = None
        if error is None:
            delivery.status = DeliveryStatus.SUCCEEDED.value
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            endpoint.failing_since = None
            return Outcome.SENT
        endpoint.failing_since = endpoint.failing_since or now
        self._maybe_pause(endpoint, now, error)
        delivery.next_attempt_at = next_attempt(delivery.attempts, now)
        if delivery.next_attempt_at is None:
            delivery.status = DeliveryStatus.FAILED.value
            return Outcome.FAILED
        return Outcome.RETRYING

    def _maybe_pause(self, endpoint: WebhookEndpointMixin, now: datetime, error: str) -> None:
        since = endpoint.failing_since
        window = timedelta(days=self.settings.pause_after_days)
        if since is None or now - since < window or endpoint.status != EndpointStatus.ACTIVE.value:
            return
        endpoint.status = EndpointStatus.PAUSED.value
        endpoint.paused_reason = (
            f"every delivery failed since {since.isoformat(timespec='seconds')}; last: {error}"
        )[:500]
        logger.warning(
            "webhook endpoint %s paused: failing since %s", endpoint.id, since.isoformat()
        )


def _host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"
