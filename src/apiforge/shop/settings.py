"""The shop's settings: the kit's `Settings` (prefix `APIFORGE_`, service name `apiforge`) plus
the shop's own sections. Not for: reading the environment anywhere else."""

from pydantic import BaseModel, Field, SecretStr

from apiforge.kit import AuthSettings, ConsumerSettings, Settings, app_state


class CatalogSettings(BaseModel):
    """How stale a cached catalog answer may be. Admin writes invalidate at once (every
    worker); stock taken by orders is not invalidated (that would empty the cache under
    checkout load), so a stock figure is at most `cache_ttl_seconds` old on the server, plus
    `client_max_age_seconds` in a client or shared cache. Orders check real stock under a
    row lock, so a stale figure never oversells."""

    cache_ttl_seconds: float = Field(default=5.0, gt=0, le=3600)
    client_max_age_seconds: int = Field(default=5, ge=0, le=3600)
    # The global body limit (1 MiB) would cap an import at a few thousand rows; the 100,000
    # rows one import takes fit in this for typical products.
    import_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # An order or a stock adjustment taking a product's stock from above this to at or below
    # it records `stock.low` (once per crossing).
    low_stock_threshold: int = Field(default=5, ge=0)


class DashboardSettings(BaseModel):
    """What the dashboard shows, and how long the shared top-categories figure is cached (it
    aggregates every order line: computed at most once per TTL per cache)."""

    recent_orders: int = Field(default=5, ge=1, le=100)
    top_categories: int = Field(default=5, ge=1, le=100)
    low_stock_threshold: int = Field(default=5, ge=0)
    low_stock_items: int = Field(default=10, ge=1, le=100)
    top_categories_ttl_seconds: float = Field(default=30.0, gt=0, le=3600)


class PaymentSettings(BaseModel):
    """The payment provider's webhooks (`POST /api/webhooks/payments`). `webhook_secret`: the
    provider's Standard Webhooks secret (`whsec_...`); unset, the route answers 404.
    `webhook_previous_secret`: the one it replaces, accepted too while the provider rotates.
    `tolerance_seconds`: how far the signed timestamp may be from our clock, either way."""

    webhook_secret: SecretStr | None = None
    webhook_previous_secret: SecretStr | None = None
    tolerance_seconds: int = Field(default=300, ge=10, le=3600)

    def secrets(self) -> list[str]:
        found = (self.webhook_secret, self.webhook_previous_secret)
        return [secret.get_secret_value() for secret in found if secret is not None]


class ShopSettings(Settings):
    """`APIFORGE_DEMO_PASSWORD` (the seeded demo users' password), `APIFORGE_CATALOG__*`,
    `APIFORGE_DASHBOARD__*`, `APIFORGE_STOCK_FEED__*`, `APIFORGE_PAYMENTS__*`, and the kit's
    settings."""

    demo_password: SecretStr = SecretStr("apiforge-demo")
    auth: AuthSettings = AuthSettings(token_url="/api/auth/token")  # noqa: S106  # a URL, not a secret
    catalog: CatalogSettings = CatalogSettings()
    dashboard: DashboardSettings = DashboardSettings()
    # The warehouse stock feed (`apiforge consume stock`, on `events.amqp_url`).
    stock_feed: ConsumerSettings = ConsumerSettings(queue="warehouse.stock")
    payments: PaymentSettings = PaymentSettings()


def shop_settings(app: object) -> ShopSettings:
    """The running shop's settings, typed as the shop's (`app_state(app).settings` is typed
    as the kit's)."""
    settings = app_state(app).settings
    if not isinstance(settings, ShopSettings):
        raise TypeError(f"the shop needs ShopSettings, not {type(settings).__name__}")
    return settings
