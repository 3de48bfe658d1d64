"""Webhook endpoint rules: an organization's admins and owners register endpoints (the URL
checked against SSRF now, and again by the kit at every delivery; a secret generated, shown
once and stored sealed), list and read them (never the secret), disable, re-enable (which also
resumes a paused one) and delete them, and list each endpoint's deliveries. Flushes, never
commits."""

from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    SecretSealer,
    TenantAccess,
    WebhookEndpointStatus,
    WebhookSettings,
    generate_webhook_secret,
    resolve_webhook_target,
)
from apiforge.shop.webhooks.errors import WebhookEndpointNotFoundError
from apiforge.shop.webhooks.repository import AnyRow, WebhookEndpointRepository
from apiforge.shop.webhooks.schemas import (
    EventType,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointRead,
)


def _read(row: AnyRow) -> WebhookEndpointRead:
    return WebhookEndpointRead.model_construct(
        id=row.id,
        url=row.url,
        description=row.description,
        event_types=[EventType(t) for t in str(row.event_types).split()],
        status=row.status,
        paused_reason=row.paused_reason,
        failing_since=row.failing_since,
        created_at=row.created_at,
    )


class WebhookEndpointService:
    def __init__(
        self, session: AsyncSession, settings: WebhookSettings, sealer: SecretSealer
    ) -> None:
        self.session = session
        self.settings = settings
        self.sealer = sealer

    async def create(
        self, access: TenantAccess, data: WebhookEndpointCreate
    ) -> WebhookEndpointCreated:
        await resolve_webhook_target(data.url, allow_private=self.settings.allow_private_targets)
        secret = generate_webhook_secret()
        row = await WebhookEndpointRepository(self.session, access.scope).add(
            url=data.url,
            description=data.description or "",
            event_types=" ".join(sorted(set(data.event_types))),
            secret=self.sealer.seal(secret),  # sealed at rest; shown in the clear this once
        )
        return WebhookEndpointCreated.model_construct(**_read(row).model_dump(), secret=secret)

    async def get(self, access: TenantAccess, endpoint_id: int) -> WebhookEndpointRead:
        row = await WebhookEndpointRepository(self.session, access.scope).get(endpoint_id)
        if row is None:
            raise WebhookEndpointNotFoundError(endpoint_id)
        return _read(row)

    async def set_enabled(
        self, access: TenantAccess, endpoint_id: int, *, enabled: bool
    ) -> WebhookEndpointRead:
        status = WebhookEndpointStatus.ACTIVE if enabled else WebhookEndpointStatus.DISABLED
        repository = WebhookEndpointRepository(self.session, access.scope)
        row = await repository.set_status(endpoint_id, status.value)
        if row is None:
            raise WebhookEndpointNotFoundError(endpoint_id)
        return _read(row)

    async def delete(self, access: TenantAccess, endpoint_id: int) -> None:
        """Its deliveries go with it (pending ones are never sent)."""
        if not await WebhookEndpointRepository(self.session, access.scope).delete(endpoint_id):
            raise WebhookEndpointNotFoundError(endpoint_id)

    async def deliveries(
        self, access: TenantAccess, endpoint_id: int, *, before_id: int | None, limit: int
    ) -> list[WebhookDeliveryRead]:
        repository = WebhookEndpointRepository(self.session, access.scope)
        if await repository.get(endpoint_id) is None:
            raise WebhookEndpointNotFoundError(endpoint_id)
        rows = await repository.deliveries(endpoint_id, before_id=before_id, limit=limit)
        return [WebhookDeliveryRead.model_construct(**row._mapping) for row in rows]

    async def all_deliveries(
        self, access: TenantAccess, *, status: str | None, before_id: int | None, limit: int
    ) -> list[WebhookDeliveryRead]:
        repository = WebhookEndpointRepository(self.session, access.scope)
        rows = await repository.all_deliveries(status=status, before_id=before_id, limit=limit)
        return [WebhookDeliveryRead.model_construct(**row._mapping) for row in rows]

    # Last: once defined, `list` in this class body is the method, not the builtin.
    async def list(self, access: TenantAccess) -> list[WebhookEndpointRead]:
        rows = await WebhookEndpointRepository(self.session, access.scope).all()
        return [_read(row) for row in rows]
