"""The forged-token matrix, over HTTP on the shop: every kind of bad access token answers 401
with one and the same problem body (minus its request ID) and `WWW-Authenticate: Bearer
error="invalid_token"`, so a caller learns nothing about which check failed. Each case starts
from a genuine token that works, and changes one thing. The HS256 shop is the session's app;
the key cases (public key as HMAC secret, unknown kid, another key) run on an EdDSA shop."""

import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from apiforge.kit import app_state
from apiforge.shop.accounts.schemas import TokenPair
from tests.factories import DEFAULT_PASSWORD, UserWithPassword
from tests.kit.auth.keys import asymmetric_auth, ed25519_key, pem_of, public_pem_of
from tests.shop.accounts.conftest import login
from tests.shop.apps import shop_variant
from tests.shop.refusals import assert_refused, b64, hs256_with, unsigned

PROBE = "/api/users/me"


@dataclass
class Forge:
    """What a case builds its token from: the running app, a client, the signed-in customer
    and a genuine pair of tokens of theirs, the app's HMAC secret, an admin's headers."""

    app: FastAPI
    client: httpx.AsyncClient
    user: UserWithPassword
    pair: TokenPair
    admin_headers: dict[str, str]

    @property
    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            self.pair.access_token, options={"verify_signature": False}
        )
        return claims

    @property
    def leeway(self) -> int:
        return app_state(self.app).settings.auth.leeway_seconds

    def sign(self, claims: dict[str, Any], *, key: str | None = None, **header: Any) -> str:
        secret = app_state(self.app).settings.signing_key if key is None else key
        return jwt.encode(claims, secret, algorithm="HS256", headers=header or None)


def without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in claims.items() if key != name}


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header}.{b64(orjson.dumps({**claims, 'role': 'admin'}))}.{signature}"


async def disabled(forge: Forge) -> str:
    body = {"is_active": False}
    url = f"/api/admin/users/{forge.user.id}"
    response = await forge.client.patch(url, json=body, headers=forge.admin_headers)
    assert response.status_code == 200, response.text
    return forge.pair.access_token


async def before_password_change(forge: Forge) -> str:
    change = {"current_password": DEFAULT_PASSWORD, "new_password": "a brand new password"}
    headers = {"Authorization": f"Bearer {forge.pair.access_token}"}
    response = await forge.client.post("/api/users/me/password", json=change, headers=headers)
    assert response.status_code == 200, response.text
    return forge.pair.access_token


async def before_logout_all(forge: Forge) -> str:
    headers = {"Authorization": f"Bearer {forge.pair.access_token}"}
    response = await forge.client.post("/api/auth/logout-all", headers=headers)
    assert response.status_code == 204, response.text
    return forge.pair.access_token


def _now() -> int:
    return int(time.time())


Case = Callable[[Forge], str | Awaitable[str]]
CASES: dict[str, Case] = {
    "alg none": lambda f: unsigned("none", f.claims),
    "alg None": lambda f: unsigned("None", f.claims),
    "alg NONE": lambda f: unsigned("NONE", f.claims),
    "another HMAC algorithm (HS384)": lambda f: jwt.encode(
        f.claims, app_state(f.app).settings.signing_key, algorithm="HS384"
    ),
    "wrong key": lambda f: f.sign(f.claims, key="another-secret-key-" * 3),
    "expired beyond the leeway": lambda f: f.sign(
        f.claims | {"iat": _now() - 900, "exp": _now() - f.leeway - 5}
    ),
    "missing exp": lambda f: f.sign(without(f.claims, "exp")),
    "nbf in the future": lambda f: f.sign(f.claims | {"nbf": _now() + f.leeway + 60}),
    "missing aud": lambda f: f.sign(without(f.claims, "aud")),
    "wrong aud": lambda f: f.sign(f.claims | {"aud": "another-api"}),
    "wrong iss": lambda f: f.sign(f.claims | {"iss": "https://someone-else.example"}),
    "refresh token as access token": lambda f: f.pair.refresh_token,
    "jku header": lambda f: f.sign(f.claims, jku="https://attacker.example/jwks.json"),
    "x5u header": lambda f: f.sign(f.claims, x5u="https://attacker.example/cert.pem"),
    "jwk header": lambda f: f.sign(f.claims, jwk={"kty": "oct", "k": b64(b"attacker")}),
    "x5c header": lambda f: f.sign(f.claims, x5c=["MIIB"]),
    "tampered payload": lambda f: tampered(f.pair.access_token),
    "disabled user": disabled,
    "issued before a password change": before_password_change,
    "issued before logout-all": before_logout_all,
}


@pytest.mark.parametrize("case", list(CASES))
async def test_every_forged_token_gets_the_same_401(
    case: str,
    client: httpx.AsyncClient,
    app: FastAPI,
    customer: UserWithPassword,
    admin_headers: dict[str, str],
) -> None:
    pair = await login(client, customer)
    forge = Forge(app, client, customer, pair, admin_headers)
    genuine = forge.sign(forge.claims)  # the builders' control: unchanged, it works
    assert (await client.get(PROBE, headers={"Authorization": f"Bearer {genuine}"})).is_success

    built = CASES[case](forge)
    token = built if isinstance(built, str) else await built
    assert_refused(await client.get(PROBE, headers={"Authorization": f"Bearer {token}"}))


async def test_an_access_token_is_no_refresh_token(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    pair = await login(client, customer)
    body = {"refresh_token": pair.access_token[:256]}  # the field is bounded; a JWT is longer
    response = await client.post("/api/auth/refresh", json=body)
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "auth.invalid_token"
    # And the genuine refresh token still works: the failed attempt cost it nothing.
    again = {"refresh_token": pair.refresh_token}
    assert (await client.post("/api/auth/refresh", json=again)).status_code == 200


# ------------------------------------------------------------------ on an EdDSA shop


async def test_key_forgeries_on_an_eddsa_shop(
    database_url: str,
    db_connection: AsyncConnection | None,
    client: httpx.AsyncClient,
    customer: UserWithPassword,
) -> None:
    private, stranger = ed25519_key(), ed25519_key()
    auth = asymmetric_auth("EdDSA", pem_of(private), token_url="/api/auth/token")
    hs256_token = (await login(client, customer)).access_token
    async with shop_variant(database_url, db_connection, auth=auth) as (_, eddsa_client):
        genuine = (await login(eddsa_client, customer)).access_token
        header = jwt.get_unverified_header(genuine)
        claims = jwt.decode(genuine, options={"verify_signature": False})
        jwks = (await eddsa_client.get("/.well-known/jwks.json")).json()
        forged = {
            "HS256 with the public key (PEM)": hs256_with(
                public_pem_of(private), claims, header["kid"]
            ),
            "HS256 with the public key (JWK)": hs256_with(
                orjson.dumps(jwks["keys"][0]), claims, header["kid"]
            ),
            "unknown kid": jwt.encode(
                claims, stranger, algorithm="EdDSA", headers={"kid": "a-kid-nobody-published"}
            ),
            "another key under the known kid": jwt.encode(
                claims, stranger, algorithm="EdDSA", headers={"kid": header["kid"]}
            ),
            "no kid": jwt.encode(claims, private, algorithm="EdDSA"),
            "the HS256 shop's token": hs256_token,
            "alg none": unsigned("none", claims),
        }
        auth_header = {"Authorization": f"Bearer {genuine}"}
        assert (await eddsa_client.get(PROBE, headers=auth_header)).is_success
        for name, token in forged.items():
            response = await eddsa_client.get(PROBE, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, name
            assert_refused(response)
    # And the other way: the EdDSA token means nothing to the HS256 shop.
    assert_refused(await client.get(PROBE, headers={"Authorization": f"Bearer {genuine}"}))
