"""Webhook endpoints' errors, each with a stable code."""

from apiforge.kit import NotFoundError


class WebhookEndpointNotFoundError(NotFoundError):
    """No such endpoint in this organization (another organization's is the same answer)."""

    code = "webhooks.endpoint_not_found"

    def __init__(self, endpoint_id: int) -> None:
        super().__init__(f"Webhook endpoint {endpoint_id} was not found.")
