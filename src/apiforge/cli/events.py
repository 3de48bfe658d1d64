"""`apiforge outbox relay|prune`, `apiforge consume stock` and `apiforge webhooks reseal`: the
shop's event processes and upkeep. The
relay publishes the outbox (to RabbitMQ when `APIFORGE_EVENTS__AMQP_URL` is set); the stock
consumer applies the warehouse feed from `APIFORGE_STOCK_FEED__QUEUE`. Both stop on SIGTERM
or Ctrl-C after the work in hand."""

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import typer

from apiforge.cli.service import DEFAULT_APP, AppOption, fail, load_config

if TYPE_CHECKING:
    from apiforge.shop.settings import ShopSettings

outbox_app = typer.Typer(
    help="The shop's transactional outbox: relay its events, prune the sent ones.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
consume_app = typer.Typer(
    help="The shop's RabbitMQ consumers.", no_args_is_help=True, rich_markup_mode=None
)
webhooks_app = typer.Typer(
    help="The shop's outbound webhooks.", no_args_is_help=True, rich_markup_mode=None
)

MetricsPort = Annotated[
    int | None,
    typer.Option(
        "--metrics-port",
        help="Serve the relay's Prometheus metrics (published, failed, lag) on this port.",
        min=1,
        max=65535,
    ),
]


def _shop_settings(app: str) -> "ShopSettings":
    from apiforge.kit import configure_logging
    from apiforge.shop.settings import ShopSettings

    settings = load_config(app).settings
    if not isinstance(settings, ShopSettings):
        fail(f"{app} is not the shop (its settings are not ShopSettings)")
    configure_logging(settings)
    return settings


def _run_until_signalled(work: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await work(stop)

    asyncio.run(main())


@outbox_app.command("relay")
def relay(app: AppOption = DEFAULT_APP, metrics_port: MetricsPort = None) -> None:
    """Publish the outbox's events until stopped, to RabbitMQ and the webhook deliveries (on
    PostgreSQL `apiforge worker` relays by default; run this with
    APIFORGE_EVENTS__EMBEDDED_RELAY=false to relay apart. Several may run: they share the work
    without breaking per-aggregate order)."""
    settings = _shop_settings(app)

    async def work(stop: asyncio.Event) -> None:
        from prometheus_client import CollectorRegistry, start_http_server

        from apiforge.kit import Database, OutboxMetrics, relay_for
        from apiforge.shop.events.models import OutboxEvent
        from apiforge.shop.webhooks.jobs import WebhookSink

        registry = CollectorRegistry()
        metrics = OutboxMetrics.create(registry, settings.service_name)
        if metrics_port is not None:
            start_http_server(metrics_port, addr="0.0.0.0", registry=registry)  # noqa: S104  # a pod's metrics port
        database = Database.from_url(settings.database_url, settings.db, name="apiforge-relay")
        try:
            # No job queue here: the deliveries it writes go out on the worker's next
            # `webhooks.send_due` sweep (`apiforge worker` relays and sends them at once).
            sinks = [WebhookSink(None)]
            async with relay_for(
                database, OutboxEvent, settings.events, sinks=sinks, metrics=metrics
            ) as r:
                logging.getLogger("apiforge.outbox").info("outbox relay started")
                await r.run(stop)
        finally:
            await database.dispose()

    _run_until_signalled(work)


@outbox_app.command("prune")
def prune(app: AppOption = DEFAULT_APP) -> None:
    """Delete events sent more than `events.keep_sent_hours` ago."""
    settings = _shop_settings(app)

    async def work() -> int:
        from datetime import timedelta

        from apiforge.kit import Database, OutboxRelay
        from apiforge.shop.events.models import OutboxEvent

        database = Database.from_url(settings.database_url, settings.db)
        try:
            relay = OutboxRelay(database, OutboxEvent, [])
            return await relay.prune(older_than=timedelta(hours=settings.events.keep_sent_hours))
        finally:
            await database.dispose()

    typer.echo(f"Pruned {asyncio.run(work())} sent outbox events.")


@consume_app.command("stock")
def stock(app: AppOption = DEFAULT_APP) -> None:
    """Apply the warehouse stock feed (`stock_feed.queue` on `events.amqp_url`) until
    stopped: each message once (inbox), acknowledged after its commit, poison to
    `<queue>.dead`."""
    settings = _shop_settings(app)
    if settings.events.amqp_url is None:
        fail(f"set {settings.env_name('events.amqp_url')} to RabbitMQ's URL")
    url = settings.events.amqp_url.get_secret_value()

    async def work(stop: asyncio.Event) -> None:
        from apiforge.kit import Database, QueueConsumer
        from apiforge.shop.catalog.jobs import StockFeedHandler

        database = Database.from_url(settings.database_url, settings.db, name="apiforge-stock")
        handler = StockFeedHandler(
            database, low_stock_threshold=settings.catalog.low_stock_threshold
        )
        try:
            await QueueConsumer(url, settings.stock_feed, handler).run(stop)
        finally:
            await database.dispose()

    _run_until_signalled(work)


@webhooks_app.command("reseal")
def reseal(app: AppOption = DEFAULT_APP) -> None:
    """Seal every webhook endpoint secret under the first of APIFORGE_WEBHOOKS__SEALING_KEYS
    (or the key derived from the secret key): those stored before sealing, and those under a
    key about to be dropped. Run it after putting a new key first; then drop the old one."""
    settings = _shop_settings(app)

    async def work() -> int:
        from apiforge.kit import Database, reseal_secrets, webhook_sealer
        from apiforge.shop.webhooks.models import WebhookEndpoint

        database = Database.from_url(settings.database_url, settings.db)
        try:
            return await reseal_secrets(database, WebhookEndpoint, webhook_sealer(settings))
        finally:
            await database.dispose()

    typer.echo(f"Resealed {asyncio.run(work())} webhook endpoint secrets.")
