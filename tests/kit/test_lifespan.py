"""The lifespan owns the long-lived resources: built at startup, reachable through the typed
`AppState`, closed at shutdown."""

import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis

from apiforge.kit import AppState, Database, app_state, create_app
from tests.kit.apps import kit_app, kit_settings


async def test_state_exists_only_while_running(
    sqlite_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    dispose, aclose = Database.dispose, Redis.aclose

    async def spy_dispose(self: Database) -> None:
        closed.append("database")
        await dispose(self)

    async def spy_aclose(self: Redis, close_connection_pool: bool | None = None) -> None:
        closed.append("redis")
        await aclose(self, close_connection_pool)

    monkeypatch.setattr(Database, "dispose", spy_dispose)
    monkeypatch.setattr(Redis, "aclose", spy_aclose)
    app = kit_app(sqlite_url, redis_url=redis_url)
    with pytest.raises(RuntimeError, match="lifespan has not run"):
        app_state(app)
    async with LifespanManager(app):
        state = app_state(app)
        assert state.settings.database_url == sqlite_url
        assert state.redis is not None
        assert await state.redis.ping()
        await state.database.ping()
    assert sorted(closed) == ["database", "redis"]
    with pytest.raises(RuntimeError, match="lifespan has not run"):
        app_state(app)


async def test_no_redis_client_unless_configured(sqlite_url: str) -> None:
    app = kit_app(sqlite_url)
    async with LifespanManager(app):
        assert app_state(app).redis is None


async def test_startup_hooks_get_the_state_and_a_failing_one_still_cleans_up(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[AppState] = []
    disposed: list[bool] = []
    dispose = Database.dispose

    async def spy_dispose(self: Database) -> None:
        disposed.append(True)
        await dispose(self)

    async def remember(state: AppState) -> None:
        seen.append(state)

    async def explode(state: AppState) -> None:
        raise RuntimeError("cannot warm the cache")

    monkeypatch.setattr(Database, "dispose", spy_dispose)
    settings = kit_settings(sqlite_url)
    ok = create_app(settings, on_startup=[remember])
    async with LifespanManager(ok):
        assert seen == [app_state(ok)]
    failing = create_app(settings, on_startup=[explode])
    with pytest.raises(RuntimeError, match="cannot warm the cache"):
        async with LifespanManager(failing):
            pass
    assert disposed == [True, True]
