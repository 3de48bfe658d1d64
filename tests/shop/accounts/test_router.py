"""The accounts HTTP contract: registration, login, the OAuth2 form, /users/me with every kind
of bad token, refresh rotation with reuse detection, logout. Runs on SQLite and PostgreSQL."""

import asyncio
import time
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Database, Settings
from apiforge.kit.testing import count_queries
from apiforge.shop.accounts.models import User
from tests.answers import assert_problem
from tests.factories import UserWithPassword
from tests.shop.accounts.conftest import login


def error_locs(body: dict[str, Any]) -> list[list[str]]:
    return [error["loc"] for error in body["errors"]]


# ------------------------------------------------------------------ register


async def test_register_creates_a_customer_with_a_lowercase_email(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/auth/register",
        json={"email": "New.Person@Example.COM", "password": "long enough", "full_name": "Ada"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "email", "full_name", "role", "created_at"}
    assert body["email"] == "new.person@example.com"
    assert (body["role"], body["full_name"]) == ("customer", "Ada")
    assert body["id"] >= 1


async def test_registered_user_can_log_in(client: httpx.AsyncClient) -> None:
    credentials = {"email": "fresh@example.com", "password": "long enough"}
    assert (await client.post("/api/auth/register", json=credentials)).status_code == 201
    response = await client.post("/api/auth/login", json=credentials)
    assert response.status_code == 200, response.text


async def test_register_duplicate_email_is_409_whatever_the_case(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    response = await client.post(
        "/api/auth/register", json={"email": "CUSTOMER@example.com", "password": "long enough"}
    )
    assert_problem(response, 409, "accounts.email_taken")


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"role": "admin"}, ["body", "role"]),
        ({"password": "short"}, ["body", "password"]),
        ({"password": "x" * 129}, ["body", "password"]),
        ({"email": "not-an-email"}, ["body", "email"]),
        ({"full_name": "Bad\x00Name"}, ["body", "full_name"]),
        ({"full_name": "x" * 201}, ["body", "full_name"]),
    ],
    ids=["extra-role", "short-password", "long-password", "bad-email", "nul-name", "long-name"],
)
async def test_register_rejects_invalid_input(
    client: httpx.AsyncClient, payload: dict[str, str], loc: list[str]
) -> None:
    body = {"email": "valid@example.com", "password": "long enough", **payload}
    response = await client.post("/api/auth/register", json=body)
    problem = assert_problem(response, 422, "request.validation_failed")
    assert error_locs(problem) == [loc]


async def test_register_rejects_a_lone_surrogate(client: httpx.AsyncClient) -> None:
    # Raw JSON: an escaped lone surrogate is legal JSON but not encodable text.
    raw = b'{"email": "valid@example.com", "password": "long enough", "full_name": "a\\ud800"}'
    response = await client.post(
        "/api/auth/register", content=raw, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, 422, "request.validation_failed")
    assert error_locs(problem) == [["body", "full_name"]]


async def test_register_costs_two_statements(client: httpx.AsyncClient, database: Database) -> None:
    with count_queries(database.engine) as queries:
        response = await client.post(
            "/api/auth/register", json={"email": "count@example.com", "password": "long enough"}
        )
    assert response.status_code == 201
    assert len(queries.data_statements) == 2, queries.data_statements


# ------------------------------------------------------------------ login


async def test_login_returns_a_token_pair_that_works(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    response = await client.post(
        "/api/auth/login", json={"email": "Customer@Example.com", "password": customer.password}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert 0 < body["expires_in"] <= 900
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == customer.id


async def test_login_wrong_password_and_unknown_email_answer_alike(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    wrong = await client.post(
        "/api/auth/login", json={"email": customer.email, "password": "not the password"}
    )
    unknown = await client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": customer.password}
    )
    first = assert_problem(wrong, 401, "auth.invalid_credentials")
    second = assert_problem(unknown, 401, "auth.invalid_credentials")
    assert first["detail"] == second["detail"]
    assert wrong.headers["www-authenticate"] == "Bearer"


async def test_login_refuses_a_disabled_account(
    client: httpx.AsyncClient, session: AsyncSession, customer: UserWithPassword
) -> None:
    await session.execute(update(User).where(User.id == customer.id).values(is_active=False))
    response = await client.post(
        "/api/auth/login", json={"email": customer.email, "password": customer.password}
    )
    assert_problem(response, 401, "auth.invalid_credentials")


async def test_login_rejects_extra_fields(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    response = await client.post(
        "/api/auth/login",
        json={"email": customer.email, "password": customer.password, "role": "admin"},
    )
    assert_problem(response, 422, "request.validation_failed")


async def test_login_costs_two_statements(
    client: httpx.AsyncClient, database: Database, customer: UserWithPassword
) -> None:
    with count_queries(database.engine) as queries:
        await login(client, customer)
    assert len(queries.data_statements) == 2, queries.data_statements


# ------------------------------------------------------------------ OAuth2 form


async def test_token_form_issues_a_pair(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    response = await client.post(
        "/api/auth/token",
        data={"grant_type": "password", "username": customer.email, "password": customer.password},
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"


async def test_token_form_wrong_password_is_401(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    response = await client.post(
        "/api/auth/token", data={"username": customer.email, "password": "not the password"}
    )
    assert_problem(response, 401, "auth.invalid_credentials")


async def test_token_form_rejects_nul_bytes(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/token", data={"username": "a\x00@example.com", "password": "whatever1"}
    )
    problem = assert_problem(response, 422, "request.validation_failed")
    assert error_locs(problem) == [["body", "username"]]


async def test_token_form_requires_its_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/token", data={"username": "a@example.com"})
    problem = assert_problem(response, 422, "request.validation_failed")
    assert ["body", "password"] in error_locs(problem)


# ------------------------------------------------------------------ /users/me


def _claims(settings: Settings, subject: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "role": "customer",
        "iat": now,
        "exp": now + 300,
        "iss": settings.auth.issuer,
        "aud": settings.auth.audience,
        "typ": "access",
    }
    claims.update(overrides)
    return claims


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_me_returns_the_signed_in_user(
    client: httpx.AsyncClient, customer: UserWithPassword, customer_headers: dict[str, str]
) -> None:
    response = await client.get("/api/users/me", headers=customer_headers)
    assert response.status_code == 200
    assert response.json()["email"] == customer.email
    assert response.json()["role"] == "customer"


async def test_me_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/users/me")
    assert_problem(response, 401, "auth.unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_me_with_a_garbage_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/users/me", headers=_bearer("not.a.jwt"))
    assert_problem(response, 401, "auth.invalid_token")


async def test_me_with_an_expired_token_is_401(
    client: httpx.AsyncClient, settings: Settings, customer: UserWithPassword
) -> None:
    past = int(time.time()) - 3600
    claims = _claims(settings, str(customer.id), iat=past - 900, exp=past)
    token = jwt.encode(claims, settings.signing_key, algorithm=settings.auth.algorithm)
    response = await client.get("/api/users/me", headers=_bearer(token))
    assert_problem(response, 401, "auth.invalid_token")


@pytest.mark.parametrize(
    ("case", "overrides"),
    [
        ("forged-signature", {}),
        ("alg-none", {}),
        ("wrong-audience", {"aud": "someone-else"}),
        ("wrong-issuer", {"iss": "someone-else"}),
        ("not-an-access-token", {"typ": "refresh"}),
        ("other-hmac-alg", {}),
    ],
)
async def test_me_refuses_a_token_it_did_not_issue_as_is(
    client: httpx.AsyncClient,
    settings: Settings,
    customer: UserWithPassword,
    case: str,
    overrides: dict[str, str],
) -> None:
    claims = _claims(settings, str(customer.id), **overrides)
    if case == "forged-signature":
        token = jwt.encode(claims, "another-key-" + "x" * 32, algorithm="HS256")
    elif case == "alg-none":
        token = jwt.encode(claims, "", algorithm="none")
    elif case == "other-hmac-alg":
        # Right key, algorithm not the pinned one: refused all the same.
        token = jwt.encode(claims, settings.signing_key, algorithm="HS384")
    else:
        token = jwt.encode(claims, settings.signing_key, algorithm=settings.auth.algorithm)
    response = await client.get("/api/users/me", headers=_bearer(token))
    assert_problem(response, 401, "auth.invalid_token")


async def test_me_for_a_deleted_user_is_401(
    client: httpx.AsyncClient,
    session: AsyncSession,
    customer: UserWithPassword,
    customer_headers: dict[str, str],
) -> None:
    user = await session.get(User, customer.id)
    assert user is not None
    await session.delete(user)
    await session.flush()
    response = await client.get("/api/users/me", headers=customer_headers)
    assert_problem(response, 401, "auth.invalid_token")


@pytest.mark.parametrize("subject", ["abc", "99999999999999999999999", "0"])
async def test_me_with_a_signed_but_odd_subject_is_401(
    client: httpx.AsyncClient, settings: Settings, subject: str
) -> None:
    token = jwt.encode(
        _claims(settings, subject), settings.signing_key, algorithm=settings.auth.algorithm
    )
    response = await client.get("/api/users/me", headers=_bearer(token))
    assert_problem(response, 401, "auth.invalid_token")


# ------------------------------------------------------------------ refresh and logout


async def _refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/api/auth/refresh", json={"refresh_token": refresh_token})


async def test_refresh_rotates_the_pair(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    first = await login(client, customer)
    response = await _refresh(client, first.refresh_token)
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first.refresh_token
    me = await client.get("/api/users/me", headers=_bearer(second["access_token"]))
    assert me.status_code == 200
    assert (await _refresh(client, second["refresh_token"])).status_code == 200


async def test_a_used_refresh_token_no_longer_works(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    pair = await login(client, customer)
    assert (await _refresh(client, pair.refresh_token)).status_code == 200
    assert_problem(await _refresh(client, pair.refresh_token), 401, "auth.invalid_token")


async def test_refresh_reuse_revokes_the_whole_family(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    original = await login(client, customer)
    other_login = await login(client, customer)
    newest = (await _refresh(client, original.refresh_token)).json()["refresh_token"]

    # The replay fails, and the revocation it triggers survives the failed request...
    assert_problem(await _refresh(client, original.refresh_token), 401, "auth.invalid_token")
    assert_problem(await _refresh(client, newest), 401, "auth.invalid_token")
    # ...but only that family: another login of the same user is untouched.
    assert (await _refresh(client, other_login.refresh_token)).status_code == 200


async def test_refresh_with_an_unknown_token_is_401(client: httpx.AsyncClient) -> None:
    response = await _refresh(client, "never-issued")
    assert_problem(response, 401, "auth.invalid_token")


async def test_refresh_rejects_a_nul_byte(client: httpx.AsyncClient) -> None:
    response = await _refresh(client, "abc\x00def")
    assert_problem(response, 422, "request.validation_failed")


async def test_refresh_for_a_disabled_account_is_401(
    client: httpx.AsyncClient, session: AsyncSession, customer: UserWithPassword
) -> None:
    pair = await login(client, customer)
    await session.execute(update(User).where(User.id == customer.id).values(is_active=False))
    assert_problem(await _refresh(client, pair.refresh_token), 401, "auth.invalid_token")


async def test_refresh_carries_the_current_role(
    client: httpx.AsyncClient, session: AsyncSession, customer: UserWithPassword
) -> None:
    pair = await login(client, customer)
    await session.execute(update(User).where(User.id == customer.id).values(role="admin"))
    response = await _refresh(client, pair.refresh_token)
    me = await client.get("/api/users/me", headers=_bearer(response.json()["access_token"]))
    assert me.json()["role"] == "admin"
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["role"] == "admin"


async def test_refresh_costs_three_statements(
    client: httpx.AsyncClient, database: Database, customer: UserWithPassword
) -> None:
    pair = await login(client, customer)
    with count_queries(database.engine) as queries:
        response = await _refresh(client, pair.refresh_token)
    assert response.status_code == 200
    assert len(queries.data_statements) == 3, queries.data_statements


async def test_logout_then_refresh_is_401(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    pair = await login(client, customer)
    rotated = (await _refresh(client, pair.refresh_token)).json()["refresh_token"]
    response = await client.post("/api/auth/logout", json={"refresh_token": pair.refresh_token})
    assert response.status_code == 204
    assert response.content == b""
    # Logging out with an old token of the family ends the newest one too.
    assert (await _refresh(client, rotated)).status_code == 401


async def test_logout_is_idempotent(client: httpx.AsyncClient, customer: UserWithPassword) -> None:
    pair = await login(client, customer)
    for token in (pair.refresh_token, pair.refresh_token, "never-issued"):
        response = await client.post("/api/auth/logout", json={"refresh_token": token})
        assert response.status_code == 204


async def test_logout_rejects_extra_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/logout", json={"refresh_token": "x", "all": True})
    assert_problem(response, 422, "request.validation_failed")


@pytest.mark.committed
async def test_a_double_submitted_refresh_mints_one_pair(
    client: httpx.AsyncClient, session: AsyncSession, customer: UserWithPassword
) -> None:
    await session.commit()
    # Several rounds: without the row lock, one round can still serialise by luck.
    for _ in range(5):
        pair = await login(client, customer)
        first, second = await asyncio.gather(
            _refresh(client, pair.refresh_token), _refresh(client, pair.refresh_token)
        )
        assert sorted([first.status_code, second.status_code]) == [200, 401]
        loser = first if first.status_code == 401 else second
        assert_problem(loser, 401, "auth.invalid_token")
