"""On-demand profiling: an admin's flagged request gets pyinstrument's HTML profile of itself
(the route running once underneath), anyone else's gets 403, an unflagged request is
untouched, and the layer is not installed in production unless enabled."""

import asyncio
import importlib.util
import sys
import time
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request

from apiforge.kit import Environment, MissingExtraError, ProfilingSettings, app_state
from apiforge.kit.auth.principal import Principal
from apiforge.kit.middleware.profiling import ProfilingMiddleware
from apiforge.kit.problems import PROBLEM_CONTENT_TYPE
from tests.kit.apps import kit_app, serve

PRODUCTION = {"environment": Environment.PRODUCTION, "secret_key": "p" * 64}


def _router(calls: list[str]) -> APIRouter:
    router = APIRouter()

    @router.get("/work")
    async def crunch_numbers(request: Request) -> dict[str, Any]:
        calls.append(request.url.query)
        deadline = time.perf_counter() + 0.02  # a few samples' worth of CPU, then a wait
        while time.perf_counter() < deadline:
            sum(range(1000))
        await asyncio.sleep(0.01)
        return {"calls": len(calls)}

    @router.get("/broken")
    async def break_down() -> None:
        await asyncio.sleep(0.02)  # long enough to be sampled
        raise RuntimeError("boom")

    return router


def _app(database_url: str, calls: list[str], **overrides: Any) -> FastAPI:
    return kit_app(database_url, _router(calls), **overrides)


def _bearer(app: FastAPI, role: str) -> dict[str, str]:
    token = app_state(app).tokens.issue(Principal(subject="7", role=role)).token
    return {"Authorization": f"Bearer {token}"}


def _installed(app: FastAPI) -> bool:
    # Starlette types `cls` as a middleware factory protocol; compare as plain objects.
    installed: list[object] = [m.cls for m in app.user_middleware]
    return ProfilingMiddleware in installed


async def _profile(client: httpx.AsyncClient, app: FastAPI, role: str) -> httpx.Response:
    return await client.get("/work", headers={"X-Profile": "1", **_bearer(app, role)})


async def test_admin_gets_the_html_profile_and_the_route_runs_once(sqlite_url: str) -> None:
    calls: list[str] = []
    app = _app(sqlite_url, calls)
    async with serve(app) as client:
        response = await _profile(client, app, "admin")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-profiled-status"] == "200"
    assert response.headers["cache-control"] == "no-store"
    assert "x-request-id" in response.headers
    assert "crunch_numbers" in response.text
    assert calls == [""]


async def test_query_flag_works_and_the_route_does_not_see_it(sqlite_url: str) -> None:
    calls: list[str] = []
    app = _app(sqlite_url, calls)
    async with serve(app) as client:
        response = await client.get("/work?page=2&profile=1", headers=_bearer(app, "admin"))
    assert response.headers["content-type"].startswith("text/html")
    assert "crunch_numbers" in response.text
    assert calls == ["page=2"]


async def test_a_failing_request_still_comes_back_as_its_profile(sqlite_url: str) -> None:
    app = _app(sqlite_url, [])
    async with serve(app) as client:
        response = await client.get("/broken?profile=1", headers=_bearer(app, "admin"))
    assert response.status_code == 200
    assert response.headers["x-profiled-status"] == "500"
    assert "break_down" in response.text


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param("customer", id="customer"),
        pytest.param(None, id="anonymous"),
        pytest.param({"Authorization": "Bearer not-a-token"}, id="invalid-token"),
        pytest.param({"Authorization": "Basic YWRtaW46YWRtaW4="}, id="basic-auth"),
    ],
)
async def test_anyone_but_an_admin_is_refused(sqlite_url: str, headers: Any) -> None:
    calls: list[str] = []
    app = _app(sqlite_url, calls)
    async with serve(app) as client:
        auth = _bearer(app, headers) if isinstance(headers, str) else (headers or {})
        response = await client.get("/work", headers={"X-Profile": "1", **auth})
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["code"] == "auth.permission_denied"
    assert calls == []  # refused before the route: nothing ran


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/work", {}), ("/work", {"X-Profile": "0"}), ("/work?profile=0", {})],
    ids=["no-flag", "header-0", "query-0"],
)
async def test_without_the_flag_the_answer_is_untouched(
    sqlite_url: str, path: str, headers: dict[str, str]
) -> None:
    app = _app(sqlite_url, [])
    async with serve(app) as client:
        response = await client.get(path, headers={**headers, **_bearer(app, "admin")})
    assert response.status_code == 200
    assert response.json() == {"calls": 1}
    assert "x-profiled-status" not in response.headers


async def test_off_in_production_by_default(sqlite_url: str) -> None:
    calls: list[str] = []
    app = _app(sqlite_url, calls, **PRODUCTION)
    assert not _installed(app)
    async with serve(app) as client:
        response = await _profile(client, app, "admin")
    assert response.json() == {"calls": 1}  # the flag is ignored: a normal answer


async def test_on_in_production_only_when_enabled(sqlite_url: str) -> None:
    app = _app(sqlite_url, [], profiling={"enabled": True}, **PRODUCTION)
    assert _installed(app)
    async with serve(app) as client:
        response = await _profile(client, app, "admin")
    assert "crunch_numbers" in response.text


async def test_off_when_disabled_outside_production(sqlite_url: str) -> None:
    assert not _installed(_app(sqlite_url, [], profiling={"enabled": False}))
    assert _installed(_app(sqlite_url, []))  # the test environment: on by default


async def test_the_admin_role_is_configurable(sqlite_url: str) -> None:
    app = _app(sqlite_url, [], profiling={"admin_role": "ops"})
    async with serve(app) as client:
        assert (await _profile(client, app, "admin")).status_code == 403
        assert "crunch_numbers" in (await _profile(client, app, "ops")).text


def test_enabled_without_pyinstrument_refuses_to_build_the_app(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked for explicitly, a missing pyinstrument stops the factory with the install
    command (before any server starts), not a 500 on every request."""
    monkeypatch.setitem(sys.modules, "pyinstrument", None)  # what a missing package looks like
    monkeypatch.setattr(importlib.util, "find_spec", _missing("pyinstrument"))
    with pytest.raises(MissingExtraError) as refused:
        _app(sqlite_url, [], profiling=ProfilingSettings(enabled=True))
    assert str(refused.value) == (
        "profiling is on but pyinstrument is not installed: pip install "
        "'apiforge[profiling]', or set APIFORGE_PROFILING__ENABLED=false"
    )


def test_default_profiling_stays_off_without_pyinstrument(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By default (development) profiling is on only where it can work: without the extra
    the app starts, unprofiled, instead of half-starting."""
    monkeypatch.setattr(importlib.util, "find_spec", _missing("pyinstrument"))
    app = _app(sqlite_url, [], environment=Environment.DEVELOPMENT)
    assert not _installed(app)


def _missing(name: str) -> Any:
    real = importlib.util.find_spec

    def find_spec(module: str, *args: Any) -> Any:
        return None if module == name else real(module, *args)

    return find_spec
