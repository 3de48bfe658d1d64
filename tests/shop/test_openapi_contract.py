"""The OpenAPI schema is the contract: schemathesis sends valid and invalid input to every
operation of a live server (real HTTP, uvicorn), as an anonymous caller, a customer and an
admin, on SQLite and on PostgreSQL. No answer may be a 5xx, and every answer must match the
schema the service publishes."""

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis.openapi
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from apiforge.kit import Environment
from apiforge.shop.app import create_shop_app
from apiforge.shop.settings import ShopSettings
from tests.live_server import live_shop_server, login, scratch_database

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
MAX_EXAMPLES = int(os.environ.get("APIFORGE_CONTRACT_EXAMPLES", "25"))


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def live_shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    admin_url = request.getfixturevalue("postgres_admin") if request.param == "postgres" else None
    directory = tmp_path_factory.mktemp("contract")
    with (
        scratch_database(request.param, directory, admin_url) as url,
        live_shop_server(url) as base_url,
    ):
        yield base_url


@pytest.fixture(scope="session")
def identities(live_shop: str) -> dict[str, dict[str, str]]:
    return {
        "anonymous": {},
        "customer": login(live_shop, "customer@example.com"),
        "admin": login(live_shop, "admin@example.com"),
    }


@pytest.fixture(scope="session")
def shop_schema(live_shop: str) -> Any:
    return schemathesis.openapi.from_url(f"{live_shop}/openapi.json", timeout=10)


def _operations() -> list[Any]:
    """(METHOD, path, mode) for every documented operation, read from the app without serving
    it. Invalid input is generated only where the operation takes some (parameters or body)."""
    document = create_shop_app(ShopSettings(environment=Environment.TEST, _env_file=None)).openapi()
    cases: list[Any] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
            modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if takes_input else [])
            cases.extend(
                pytest.param(method.upper(), path, mode, id=f"{method.upper()} {path} {mode}")
                for mode in modes
            )
    return cases


# schemathesis's own pytest integration (from_fixture) breaks on pytest 9 (it writes a private
# node attribute that no longer exists), so each operation is driven with its Hypothesis
# strategy directly: same generation, same checks.
@pytest.mark.parametrize(("method", "path", "mode"), _operations())
def test_no_server_error_and_schema_holds(
    shop_schema: Any,
    identities: dict[str, dict[str, str]],
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = shop_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def run(case: Any) -> None:
        for headers in identities.values():
            case.call_and_validate(headers=headers, checks=CHECKS)

    run()
