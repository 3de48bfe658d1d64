"""The shop as a resource server for external identity providers, over HTTP: tokens of two
issuers whose JWKS real loopback servers publish (keys made here), an issuer that is down and
one that hangs. First sight creates a local user linked by issuer and subject (never by email
alone); the role comes from the issuer's configured roles; a disabled user is refused; a bad
token gets the one 401 every bad token gets; an unreachable issuer a prompt, clear 401."""

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from apiforge.kit import ExternalIssuerSettings
from apiforge.shop.accounts.models import ExternalIdentity, User
from tests.factories import UserWithPassword
from tests.kit.auth.keys import public_pem_of
from tests.kit.identity.jwks_server import (
    ALL,
    IdentityProvider,
    closed_url,
    hanging_url,
    identity_provider,
)
from tests.shop.apps import shop_variant
from tests.shop.refusals import REFUSAL, assert_refused, hs256_with, unsigned

AUDIENCE = "apiforge-shop"
TIMEOUT = 1.0
PLACEHOLDER_DOMAIN = "@external.invalid"


@dataclass
class Shop:
    client: httpx.AsyncClient
    a: IdentityProvider  # every algorithm; may grant `admin`
    b: IdentityProvider  # RS256 only; grants no role


@pytest.fixture
async def shop(database_url: str, db_connection: AsyncConnection | None) -> AsyncIterator[Shop]:
    with (
        identity_provider("https://idp-a.test", AUDIENCE) as a,
        identity_provider("https://idp-b.test/realms/x", AUDIENCE) as b,
        hanging_url() as hanging,
    ):
        issuers = [
            ExternalIssuerSettings(
                issuer=a.issuer,
                audience=AUDIENCE,
                jwks_url=a.jwks_url,
                algorithms=ALL,
                roles=["admin"],
                default_role="customer",
            ),
            ExternalIssuerSettings(
                issuer=b.issuer, audience=AUDIENCE, jwks_url=b.jwks_url, default_role="customer"
            ),
            ExternalIssuerSettings(
                issuer="https://down.test", audience=AUDIENCE, jwks_url=closed_url()
            ),
            ExternalIssuerSettings(
                issuer="https://hangs.test", audience=AUDIENCE, jwks_url=hanging
            ),
        ]
        auth = {
            "token_url": "/api/auth/token",
            "external_issuers": issuers,
            "jwks_timeout_seconds": TIMEOUT,
        }
        async with shop_variant(database_url, db_connection, auth=auth) as (_, client):
            yield Shop(client, a, b)


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})


async def me_ok(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await me(client, token)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("algorithm", ALL)
async def test_each_algorithm_signs_a_user_in(shop: Shop, algorithm: str) -> None:
    kid = shop.a.add_key(algorithm)
    email = f"{algorithm.lower()}@corp.example"
    user = await me_ok(shop.client, shop.a.token(kid, sub=f"sub-{algorithm}", email=email))
    assert (user["email"], user["role"]) == (email, "customer")


async def test_first_sight_links_issuer_and_subject(shop: Shop, session: AsyncSession) -> None:
    kid = shop.a.add_key("RS256")
    first = await me_ok(shop.client, shop.a.token(kid, sub="alice", email="Alice@Corp.example"))
    assert first["email"] == "alice@corp.example"
    # The same subject later, with another email: the same user, unchanged.
    again = await me_ok(shop.client, shop.a.token(kid, sub="alice", email="new@corp.example"))
    assert again == first
    links = (await session.execute(select(ExternalIdentity))).scalars().all()
    assert [(x.issuer, x.subject, x.user_id) for x in links] == [
        (shop.a.issuer, "alice", first["id"])
    ]
    user = await session.get(User, first["id"])
    assert user is not None
    assert user.password_hash == ""  # no password: it signs in through its issuer only
    login = {"email": "alice@corp.example", "password": "anything at all"}
    assert (await shop.client.post("/api/auth/login", json=login)).status_code == 401


async def test_the_same_email_from_another_issuer_is_another_user(shop: Shop) -> None:
    a_kid, b_kid = shop.a.add_key("ES256"), shop.b.add_key("RS256")
    email = "shared@corp.example"
    from_a = await me_ok(shop.client, shop.a.token(a_kid, sub="same-sub", email=email))
    from_b = await me_ok(shop.client, shop.b.token(b_kid, sub="same-sub", email=email))
    assert from_a["id"] != from_b["id"]
    assert from_a["email"] == email
    assert from_b["email"].endswith(PLACEHOLDER_DOMAIN)


@pytest.mark.parametrize("email", ["customer@example.com", "CUSTOMER@Example.com"])
async def test_an_email_of_a_local_account_gets_a_placeholder(
    shop: Shop, customer: UserWithPassword, email: str
) -> None:
    kid = shop.a.add_key("EdDSA")
    user = await me_ok(shop.client, shop.a.token(kid, sub="claims-a-local-email", email=email))
    assert user["id"] != customer.id
    assert user["email"].startswith("external-")
    assert user["email"].endswith(PLACEHOLDER_DOMAIN)


@pytest.mark.parametrize(
    "email",
    [
        None,
        42,
        ["x@corp.example"],
        "",
        "not an address",
        "a" * 400 + "@corp.example",  # longer than the column (a 500 on PostgreSQL)
        "nul\x00@corp.example",  # PostgreSQL refuses NUL in text (a 500)
        "two@at@corp.example",
    ],
    ids=lambda email: repr(email)[:24],
)
async def test_no_usable_email_gets_a_placeholder(shop: Shop, email: object) -> None:
    """The users table holds addresses registration would accept; anything else the issuer
    sends is left out, as if it sent none."""
    kid = shop.a.add_key("RS256")
    user = await me_ok(shop.client, shop.a.token(kid, sub="odd-email", email=email))
    assert user["email"].endswith(PLACEHOLDER_DOMAIN)


@pytest.mark.parametrize(
    ("issuer", "roles", "status"),
    [
        ("a", ["admin"], 404),  # granted: the admin route answers (no such user)
        ("a", "reader admin", 404),
        ("a", ["superuser", "root"], 403),  # not a role this issuer may grant
        ("a", [{"name": "admin"}], 403),
        ("b", ["admin"], 403),  # issuer b grants no role at all
    ],
)
async def test_the_role_comes_from_the_issuers_configured_roles(
    shop: Shop, issuer: str, roles: object, status: int
) -> None:
    idp = shop.a if issuer == "a" else shop.b
    kid = idp.add_key("RS256")
    headers = {"Authorization": f"Bearer {idp.token(kid, sub='role-test', roles=roles)}"}
    body = {"is_active": False}
    response = await shop.client.patch("/api/admin/users/999999", json=body, headers=headers)
    assert response.status_code == status, response.text


async def test_a_disabled_local_user_is_refused(
    shop: Shop, admin: UserWithPassword, admin_headers: dict[str, str]
) -> None:
    kid = shop.a.add_key("ES256")
    token = shop.a.token(kid, sub="to-disable", email="soon-disabled@corp.example")
    user = await me_ok(shop.client, token)
    url = f"/api/admin/users/{user['id']}"
    disabled = await shop.client.patch(url, json={"is_active": False}, headers=admin_headers)
    assert disabled.status_code == 200, disabled.text
    assert_refused(await me(shop.client, token))
    # A new token from the issuer changes nothing: the local account is what is disabled.
    assert_refused(await me(shop.client, shop.a.token(kid, sub="to-disable")))


def _forged(shop: Shop) -> dict[str, str]:
    a_rsa, a_ec, b_rsa = shop.a.add_key("RS256"), shop.a.add_key("ES256"), shop.b.add_key("RS256")
    b_ec = shop.b.add_key("ES256")  # published by b, but b accepts RS256 only
    public_pem = public_pem_of(shop.a.keys[a_rsa][1])
    public_jwk = orjson.dumps(shop.a.public_jwk(a_rsa))
    now = int(time.time())
    return {
        "alg none": unsigned("none", shop.a.claims()),
        "HS256 keyed with the public key (PEM)": hs256_with(public_pem, shop.a.claims(), a_rsa),
        "HS256 keyed with the public key (JWK)": hs256_with(public_jwk, shop.a.claims(), a_rsa),
        "an algorithm the issuer is not configured for": shop.b.token(b_ec),
        "a key the issuer never published": shop.a.token(
            shop.a.add_key("RS256", publish=False), headers={"kid": a_ec}
        ),
        "missing aud": shop.a.token(a_rsa, aud=None),
        "wrong aud": shop.a.token(a_rsa, aud="another-api"),
        "missing exp": shop.a.token(a_rsa, exp=None),
        "expired": shop.a.token(a_ec, iat=now - 900, exp=now - 600),
        "missing sub": shop.a.token(a_rsa, sub=None),
        "missing iss": shop.a.token(a_rsa, iss=None),
        "another issuer's iss": shop.a.token(a_rsa, iss=shop.b.issuer),
        "jku header": shop.a.token(a_rsa, headers={"jku": shop.a.jwks_url}),
        "b's token with a's key": shop.b.token(b_rsa, headers={"kid": a_rsa}),
    }


async def test_every_bad_external_token_gets_the_same_401(shop: Shop) -> None:
    for name, token in _forged(shop).items():
        response = await me(shop.client, token)
        assert response.status_code == 401, (name, response.text)
        assert_refused(response)


@pytest.mark.parametrize("issuer", ["https://down.test", "https://hangs.test"])
async def test_an_unreachable_issuer_is_a_prompt_clear_401(shop: Shop, issuer: str) -> None:
    kid = shop.a.add_key("RS256")
    token = shop.a.token(kid, iss=issuer)
    for _ in range(2):  # the first request waits (at most the timeout); the next does not
        started = time.monotonic()
        response = await me(shop.client, token)
        elapsed = time.monotonic() - started
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        body = response.json()
        assert body["code"] == "auth.issuer_unavailable"
        assert body["detail"] != REFUSAL["detail"]
        assert elapsed < TIMEOUT + 3.0


@pytest.mark.parametrize("sub", ["s" * 256, "nul\x00sub"], ids=["256 characters", "NUL"])
async def test_a_subject_no_column_can_hold_is_refused(shop: Shop, sub: str) -> None:
    """Not stored truncated (two subjects would become one user), nor a 500: refused."""
    kid = shop.a.add_key("RS256")
    assert_refused(await me(shop.client, shop.a.token(kid, sub=sub)))
    assert (await me_ok(shop.client, shop.a.token(kid, sub="s" * 255)))["email"]


@pytest.mark.parametrize("verified", [False, None, "true"], ids=["false", "absent", "a-string"])
async def test_an_unverified_email_is_not_taken(shop: Shop, verified: object) -> None:
    """Whoever typed an address the issuer did not verify could take a local user's: such a
    user gets the placeholder address."""
    kid = shop.a.add_key("RS256")
    token = shop.a.token(kid, sub="unverified", email="ceo@corp.example", email_verified=verified)
    user = await me_ok(shop.client, token)
    assert user["email"].endswith(PLACEHOLDER_DOMAIN)
