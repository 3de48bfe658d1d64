"""The shop's ASGI entry point: the kit's app factory plus the shop's routers.

Run it with `apiforge serve` (the default `--app`) or
`uvicorn --factory apiforge.shop.app:create_shop_app`.
"""

from fastapi import FastAPI

from apiforge import __version__
from apiforge.kit import JobRegistry, create_app, embedded_relay
from apiforge.shop.accounts.router import router as accounts_router
from apiforge.shop.api_keys.router import router as api_keys_router
from apiforge.shop.catalog.dependencies import catalog_front_cache
from apiforge.shop.catalog.router import IMPORT_PATH
from apiforge.shop.catalog.router import router as catalog_router
from apiforge.shop.dashboard.router import router as dashboard_router
from apiforge.shop.events.models import OutboxEvent
from apiforge.shop.identity import ShopIdentityStore
from apiforge.shop.migrations import MIGRATIONS_DIR
from apiforge.shop.models import DeadJobRecord, IdempotencyKey
from apiforge.shop.orders.jobs import ORDER_JOBS
from apiforge.shop.orders.router import router as orders_router
from apiforge.shop.organizations.router import router as organizations_router
from apiforge.shop.payments.router import router as payments_router
from apiforge.shop.ratelimits import SHOP_RATE_LIMITS
from apiforge.shop.settings import ShopSettings
from apiforge.shop.webhooks.jobs import WEBHOOK_JOBS, webhook_sinks
from apiforge.shop.webhooks.router import router as webhooks_router

DESCRIPTION = """A reference shop built on apiforge.kit: accounts with revocable JWT access
tokens and rotating refresh tokens, organizations (B2B tenants) with hierarchical roles and API
keys, a catalog with keyset pagination and search, and orders (personal or an organization's)
whose stock is checked and decremented in one transaction. Authenticate with a bearer token
or an organization's API key (`X-API-Key`). Errors are `application/problem+json`."""


def shop_jobs() -> JobRegistry:
    """Every domain's jobs in one registry (what the worker and the scheduler run)."""
    jobs = JobRegistry()
    jobs.include(ORDER_JOBS)
    jobs.include(WEBHOOK_JOBS)
    return jobs


def create_shop_app(settings: ShopSettings | None = None) -> FastAPI:
    """The shop as an ASGI app; `settings` default to `ShopSettings()` (the environment)."""
    settings = settings or ShopSettings()
    return create_app(
        settings,
        routers=[
            accounts_router,
            organizations_router,
            api_keys_router,
            catalog_router,
            orders_router,
            dashboard_router,
            webhooks_router,
            payments_router,
        ],
        title="apiforge shop",
        version=__version__,
        description=DESCRIPTION,
        migrations=MIGRATIONS_DIR,
        body_limits={IMPORT_PATH: settings.catalog.import_max_bytes},
        front_cache=catalog_front_cache(settings.catalog),
        identity_store=ShopIdentityStore,
        idempotency_keys=IdempotencyKey,
        rate_limits=SHOP_RATE_LIMITS,
        # The outbox relayed from this process on SQLite, from `apiforge worker` on
        # PostgreSQL (kit.outbox.embedded.relays_here), to RabbitMQ if configured and to the
        # webhook deliveries.
        lifespan_resources=[embedded_relay(OutboxEvent, webhook_sinks)],
        jobs=shop_jobs(),
        dead_jobs=DeadJobRecord,
        mail=True,
    )
