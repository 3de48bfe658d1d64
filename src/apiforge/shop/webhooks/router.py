"""An organization's webhook endpoints over HTTP: register (the secret is shown once), list,
read, disable or re-enable, delete, and list deliveries (an endpoint's, or all of the
organization's)."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from apiforge.kit import PathId, problem_responses, rate_limit
from apiforge.shop.ratelimits import AUTHENTICATED, WRITES
from apiforge.shop.tenancy import WebhooksManager
from apiforge.shop.webhooks.dependencies import WebhookReads, WebhookWrites
from apiforge.shop.webhooks.schemas import (
    DeliveryStatus,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
)

router = APIRouter(
    prefix="/api/organizations/{org_id}/webhooks",
    tags=["webhooks"],
    dependencies=[rate_limit(*AUTHENTICATED)],
)
ENDPOINT = "/{endpoint_id}"


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[rate_limit(WRITES)],
)
async def create_webhook_endpoint(
    body: WebhookEndpointCreate, access: WebhooksManager, endpoints: WebhookWrites
) -> WebhookEndpointCreated:
    """Register an https (or http) URL for the listed event types. Refused (422) when the URL
    carries credentials or its host resolves to a loopback, private, link-local or metadata
    address. The answer's `secret` is the only time it is shown: verify each delivery's
    Standard Webhooks signature (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with
    it. Failed deliveries are retried after 5 s, 5 min, 30 min, 2 h, 5 h and 10 h."""
    return await endpoints.create(access, body)


@router.get("", responses=problem_responses(401, 403, 404, 422))
async def list_webhook_endpoints(
    access: WebhooksManager, endpoints: WebhookReads
) -> list[WebhookEndpointRead]:
    """The organization's endpoints (never their secrets)."""
    return await endpoints.list(access)


# Before `/{endpoint_id}`, which would take "deliveries" for an id (and refuse it).
@router.get("/deliveries", responses=problem_responses(401, 403, 404, 422))
async def list_organization_webhook_deliveries(
    access: WebhooksManager,
    endpoints: WebhookReads,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[WebhookDeliveryRead]:
    """Every endpoint's deliveries, newest first (`before_id` pages back, `status` filters):
    status, attempts, last response code and error, next retry."""
    value = None if status is None else status.value
    return await endpoints.all_deliveries(access, status=value, before_id=before_id, limit=limit)


@router.get(ENDPOINT, responses=problem_responses(401, 403, 404, 422))
async def get_webhook_endpoint(
    endpoint_id: PathId, access: WebhooksManager, endpoints: WebhookReads
) -> WebhookEndpointRead:
    """One endpoint: its status and, when paused, why."""
    return await endpoints.get(access, endpoint_id)


@router.patch(
    ENDPOINT,
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[rate_limit(WRITES)],
)
async def update_webhook_endpoint(
    endpoint_id: PathId,
    body: WebhookEndpointUpdate,
    access: WebhooksManager,
    endpoints: WebhookWrites,
) -> WebhookEndpointRead:
    """Disable an endpoint, or enable it again (a paused one resumes: its pending deliveries
    go out at their next attempt)."""
    return await endpoints.set_enabled(access, endpoint_id, enabled=body.enabled)


@router.delete(
    ENDPOINT,
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[rate_limit(WRITES)],
)
async def delete_webhook_endpoint(
    endpoint_id: PathId, access: WebhooksManager, endpoints: WebhookWrites
) -> None:
    """Delete an endpoint and its deliveries."""
    await endpoints.delete(access, endpoint_id)


@router.get(ENDPOINT + "/deliveries", responses=problem_responses(401, 403, 404, 422))
async def list_webhook_deliveries(
    endpoint_id: PathId,
    access: WebhooksManager,
    endpoints: WebhookReads,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[WebhookDeliveryRead]:
    """The endpoint's deliveries, newest first (`before_id` pages back): status, attempts,
    last response code and error, next retry."""
    return await endpoints.deliveries(access, endpoint_id, before_id=before_id, limit=limit)
