"""Where /metrics is served: on the main port outside production, in production only when
exposed explicitly, never when a separate port is configured or metrics are off; never in the
OpenAPI schema."""

import secrets
from typing import Any

import pytest
from pydantic import SecretStr

from apiforge.kit import Environment
from apiforge.kit.metrics import app_metrics
from apiforge.kit.settings import MetricsSettings
from tests.kit.apps import kit_app, serve

PRODUCTION = {"environment": Environment.PRODUCTION, "secret_key": SecretStr(secrets.token_hex(32))}


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({}, 200),  # test environment
        (PRODUCTION, 404),
        ({**PRODUCTION, "metrics": MetricsSettings(expose=True)}, 200),
        ({"metrics": MetricsSettings(port=9100)}, 404),  # served there, by `apiforge serve`
        ({"metrics": MetricsSettings(enabled=False)}, 404),
        ({**PRODUCTION, "metrics": MetricsSettings(enabled=False, expose=True)}, 404),
    ],
    ids=[
        "test",
        "production",
        "production-exposed",
        "separate-port",
        "disabled",
        "disabled-exposed",
    ],
)
async def test_exposure_rules(sqlite_url: str, overrides: dict[str, Any], status: int) -> None:
    async with serve(kit_app(sqlite_url, **overrides)) as client:
        response = await client.get("/metrics")
    assert response.status_code == status
    if status == 200:
        assert "apiforge_build_info" in response.text


async def test_a_configured_path_and_no_schema_entry(sqlite_url: str) -> None:
    app = kit_app(sqlite_url, metrics=MetricsSettings(path="/internal/metrics"))
    async with serve(app) as client:
        assert (await client.get("/internal/metrics")).status_code == 200
        assert (await client.get("/metrics")).status_code == 404
        schema = (await client.get("/openapi.json")).json()
    assert not any("metrics" in path for path in schema["paths"])


def test_the_app_keeps_its_metrics(sqlite_url: str) -> None:
    assert app_metrics(kit_app(sqlite_url)) is not None
    assert app_metrics(kit_app(sqlite_url, metrics=MetricsSettings(enabled=False))) is None
