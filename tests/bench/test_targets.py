"""The shop the bench starts: production settings, limits off (all the load comes from one
address), and what a run's `--shop-env` gives overriding them."""

from apiforge.bench.targets import shop_server


def test_the_shop_runs_without_rate_limits_unless_asked() -> None:
    default = shop_server(None, database_url="sqlite+aiosqlite:///./x.db", redis_url=None)
    asked = shop_server(
        None,
        database_url="sqlite+aiosqlite:///./x.db",
        redis_url=None,
        extra_settings={"APIFORGE_RATELIMIT__ENABLED": "true"},
    )
    assert default.settings["APIFORGE_RATELIMIT__ENABLED"] == "false"
    assert default.settings["APIFORGE_ENVIRONMENT"] == "production"
    assert asked.settings["APIFORGE_RATELIMIT__ENABLED"] == "true"
