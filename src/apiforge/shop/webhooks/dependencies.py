"""FastAPI wiring for webhook endpoints: the service bound to the request's unit of work and
the app's webhook settings."""

from typing import Annotated

from fastapi import Depends, Request

from apiforge.kit import ReadSession, WriteSession, app_state
from apiforge.shop.webhooks.service import WebhookEndpointService


async def webhook_reader(request: Request, session: ReadSession) -> WebhookEndpointService:
    return WebhookEndpointService(session, app_state(request.app).settings.webhooks)


async def webhook_writer(request: Request, session: WriteSession) -> WebhookEndpointService:
    return WebhookEndpointService(session, app_state(request.app).settings.webhooks)


WebhookReads = Annotated[WebhookEndpointService, Depends(webhook_reader)]
WebhookWrites = Annotated[WebhookEndpointService, Depends(webhook_writer)]
