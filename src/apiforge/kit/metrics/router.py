"""`GET /metrics` (settings.metrics.path) on the main port, for the app that installs it. Not
for: deciding whether to serve it (install.py) or a separate port (`apiforge serve`)."""

import anyio
from fastapi import APIRouter, Request, Response
from prometheus_client.exposition import choose_encoder

from apiforge.kit.metrics.sampler import MetricsSampler


def metrics_router(path: str, sampler: MetricsSampler) -> APIRouter:
    """Not in the OpenAPI schema: it is for Prometheus, not API clients. Counted under its own
    route template like any route."""
    router = APIRouter()
    registry = sampler.metrics.registry

    @router.get(path, include_in_schema=False)
    async def metrics(request: Request) -> Response:
        sampler.sample()  # this process's figures, exact as of now
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        # Collecting reads every worker's files in multiprocess mode: not on the event loop.
        body = await anyio.to_thread.run_sync(encoder, registry)
        return Response(body, media_type=content_type)

    return router
