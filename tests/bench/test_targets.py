"""The shop the bench starts: production settings, limits off (all the load comes from one
address), and what a run's `--shop-env` gives overriding them (a worker count included)."""

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


def test_a_worker_count_in_the_settings_wins_over_the_runs() -> None:
    url = "sqlite+aiosqlite:///./x.db"
    default = shop_server(None, database_url=url, redis_url=None, workers=2)
    one = shop_server(
        None, database_url=url, redis_url=None, workers=2,
        extra_settings={"APIFORGE_SERVER__WORKERS": "1"},
    )  # fmt: skip
    assert default.command[-2:] == ["--workers", "2"]
    assert "--workers" not in one.command
    assert one.settings["APIFORGE_SERVER__WORKERS"] == "1"
