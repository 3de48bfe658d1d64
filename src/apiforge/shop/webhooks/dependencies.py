"""FastAPI wiring for webhook endpoints: the service bound to the request's unit of work and
the app's webhook settings."""

from typing import Annotated

from fastapi import Depends, Request

from apiforge.kit import ReadSession, WriteSession, app_state, webhook_sealer
from apiforge.shop.webhooks.service import WebhookEndpointService


async def webhook_reader(request: Request, session: ReadSession) -> WebhookEndpointService:
    settings = app_state(request.app).settings
    return WebhookEndpointService(session, settings.webhooks, webhook_sealer(settings))


async def webhook_writer(request: Request, session: WriteSession) -> WebhookEndpointService:
    settings = app_state(request.app).settings
    return WebhookEndpointService(session, settings.webhooks, webhook_sealer(settings))


WebhookReads = Annotated[WebhookEndpointService, Depends(webhook_reader)]
WebhookWrites = Annotated[WebhookEndpointService, Depends(webhook_writer)]
