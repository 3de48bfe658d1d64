"""Secrets never reach a log line, a problem body or a metrics label, end to end on the shop at
DEBUG: every auth path driven (register, logins right and wrong, the OAuth2 form, tokens good
and forged, refresh and its replay, logout; an organization's API key created, used both ways,
forged, revoked), careless debug lines that dump headers and signing keys, and a 500 whose
exception holds a URL password and a PEM key. On HS256 and on EdDSA (PEM keys in settings)."""

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from apiforge.kit import app_state
from apiforge.kit.redaction import MASK
from apiforge.kit.settings import Environment
from apiforge.shop.app import create_shop_app
from apiforge.shop.settings import ShopSettings
from tests.kit.apps import json_lines, kit_log_output, restored_logging, serve
from tests.kit.auth.keys import asymmetric_auth, new_pem

PASSWORD = "correct horse battery staple"
WRONG_PASSWORD = "wrong horse battery staple"
SECRET_KEY = "e2e-signing-key-" + "z" * 32
DB_PASSWORD = "db-pa55word-in-a-url"
PROBLEM = "application/problem+json"

broken = APIRouter()


@broken.get("/api/broken")
async def fail(request: Request) -> None:
    # Careless debug lines (headers dumped whole, the signing keys printed), then an exception
    # holding a URL password and a key.
    debugging = logging.getLogger("apiforge.shop.debugging")
    debugging.debug("headers: %s", dict(request.headers))
    auth = app_state(request.app).settings.auth
    pems = [key.get_secret_value() for key in auth.signing_keys]
    debugging.debug("signing with %s and %r", app_state(request.app).settings.signing_key, pems)
    raise RuntimeError(
        f"cannot reach postgresql://app:{DB_PASSWORD}@db.internal:5432/shop with {pems!r}"
    )


@dataclass
class Session:
    """A client that keeps every answer, and the secrets the run handed out."""

    client: httpx.AsyncClient
    answers: list[httpx.Response] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    async def call(self, method: str, url: str, status: int, **kwargs: Any) -> httpx.Response:
        response = await self.client.request(method, url, **kwargs)
        assert response.status_code == status, (method, url, response.text)
        self.answers.append(response)
        return response


async def _accounts(s: Session) -> dict[str, str]:
    email = "careful@example.com"
    account = {"email": email, "password": PASSWORD}
    await s.call("POST", "/api/auth/register", 201, json=account)
    await s.call("POST", "/api/auth/login", 401, json={"email": email, "password": WRONG_PASSWORD})
    pair = (await s.call("POST", "/api/auth/login", 200, json=account)).json()
    form = {"username": email, "password": PASSWORD}
    await s.call("POST", "/api/auth/token", 200, data=form)
    auth = {"Authorization": f"Bearer {pair['access_token']}"}
    await s.call("GET", "/api/users/me", 200, headers=auth)
    forged = {"Authorization": f"Bearer {pair['access_token']}x"}
    await s.call("GET", "/api/users/me", 401, headers=forged)
    refresh = {"refresh_token": pair["refresh_token"]}
    rotated = (await s.call("POST", "/api/auth/refresh", 200, json=refresh)).json()
    await s.call("POST", "/api/auth/refresh", 401, json=refresh)  # the replay: family revoked
    again = {"refresh_token": rotated["refresh_token"]}
    await s.call("POST", "/api/auth/logout", 204, json=again)
    for issued in (pair, rotated):
        s.secrets += [issued["access_token"], issued["refresh_token"]]
        s.secrets.append(issued["access_token"].rsplit(".", 1)[1])  # the signature alone
    return auth


async def _api_keys(s: Session, auth: dict[str, str]) -> str:
    org = await s.call("POST", "/api/organizations", 201, json={"name": "Acme"}, headers=auth)
    keys_url = f"/api/organizations/{org.json()['id']}/api-keys"
    body = {"name": "ci", "scopes": ["orders:read"]}
    created = (await s.call("POST", keys_url, 201, json=body, headers=auth)).json()
    key: str = created["key"]
    secret = key.split("_", 2)[2]
    s.secrets += [key, secret]
    orders = f"/api/organizations/{org.json()['id']}/orders"
    await s.call("GET", orders, 200, headers={"X-API-Key": key})
    await s.call("GET", orders, 200, headers={"Authorization": f"Bearer {key}"})
    wrong = key[: -len(secret)] + secret[::-1]
    await s.call("GET", orders, 401, headers={"X-API-Key": wrong})
    await s.call("GET", orders, 401, headers={"X-API-Key": key + "x"})
    await s.call("GET", orders, 401, headers={"X-API-Key": key, **auth})  # two credentials
    await s.call("GET", keys_url, 200, headers=auth)
    await s.call("DELETE", f"{keys_url}/{created['id']}", 204, headers=auth)
    await s.call("GET", orders, 401, headers={"X-API-Key": key})
    return key


def _settings(database_url: str, algorithm: str) -> tuple[ShopSettings, list[str]]:
    values: dict[str, Any] = {"log_level": "DEBUG", "secret_key": SecretStr(SECRET_KEY)}
    pems = [] if algorithm == "HS256" else [new_pem("EdDSA"), new_pem("EdDSA")]
    if pems:
        values["auth"] = asymmetric_auth("EdDSA", *pems)
    settings = ShopSettings(
        _env_file=None, environment=Environment.TEST, database_url=database_url, **values
    )
    return settings, pems


@pytest.mark.committed
@pytest.mark.parametrize("algorithm", ["HS256", "EdDSA"])
async def test_no_secret_reaches_any_line_body_or_label(
    database_url: str, db_connection: AsyncConnection | None, algorithm: str
) -> None:
    settings, pems = _settings(database_url, algorithm)
    with restored_logging():
        app = create_shop_app(settings)
        app.include_router(broken)
        with kit_log_output() as output:
            async with serve(app) as client:
                s = Session(client, secrets=[PASSWORD, WRONG_PASSWORD, SECRET_KEY, DB_PASSWORD])
                s.secrets += pems
                auth = await _accounts(s)
                key = await _api_keys(s, auth)
                failed = await s.call("GET", "/api/broken", 500, headers={**auth, "X-API-Key": key})
                metrics = await s.call("GET", "/metrics", 200)
    text = output.getvalue()
    for secret in s.secrets:
        assert secret not in text
        assert secret not in metrics.text
        for answer in s.answers:
            if answer.headers.get("content-type") == PROBLEM:
                assert secret not in answer.text, answer.text
    # Each pem whole, and no line of its body either (a partial key is a key).
    for pem in pems:
        for line in pem.splitlines()[1:-1]:
            assert line not in text
    lines = json_lines(output)
    assert all("request_id" in line and "timestamp" in line for line in lines)
    access = [line for line in lines if line["logger"] == "apiforge.access"]
    assert len(access) == len(s.answers)
    assert all(line["request_id"] for line in access)
    debug_lines = [line for line in lines if line["logger"] == "apiforge.shop.debugging"]
    assert [line["level"] for line in debug_lines] == ["debug", "debug"]
    assert {line["request_id"] for line in debug_lines} == {failed.headers["x-request-id"]}
    (error,) = [line for line in lines if line["logger"] == "apiforge.errors"]
    assert error["request_id"] == failed.headers["x-request-id"]
    assert f"postgresql://app:{MASK}@db.internal:5432/shop" in error["exception"]
    assert all(MASK in line["event"] for line in debug_lines)
