"""Ending sessions: logging out everywhere, changing the password and disabling an account
revoke every refresh token and refuse every access token issued before, at once; the password
change hands the caller a fresh pair that works."""

import httpx

from apiforge.shop.accounts.schemas import TokenPair
from tests.answers import assert_problem
from tests.factories import UserWithPassword
from tests.shop.accounts.conftest import login


def _bearer(pair: TokenPair) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair.access_token}"}


async def _refresh(client: httpx.AsyncClient, pair: TokenPair) -> httpx.Response:
    return await client.post("/api/auth/refresh", json={"refresh_token": pair.refresh_token})


async def test_logout_everywhere_ends_every_session(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    first, second = await login(client, customer), await login(client, customer)
    assert (await client.get("/api/users/me", headers=_bearer(first))).status_code == 200

    out = await client.post("/api/auth/logout-all", headers=_bearer(second))
    assert out.status_code == 204
    for pair in (first, second):
        assert_problem(
            await client.get("/api/users/me", headers=_bearer(pair)), 401, "auth.invalid_token"
        )
        assert_problem(await _refresh(client, pair), 401, "auth.invalid_token")
    fresh = await login(client, customer)
    assert (await client.get("/api/users/me", headers=_bearer(fresh))).status_code == 200


async def test_a_password_change_needs_the_current_one_and_ends_the_others(
    client: httpx.AsyncClient, customer: UserWithPassword
) -> None:
    other_device = await login(client, customer)
    this_device = await login(client, customer)
    wrong = await client.post(
        "/api/users/me/password",
        json={"current_password": "not it at all", "new_password": "a brand new secret"},
        headers=_bearer(this_device),
    )
    assert_problem(wrong, 403, "accounts.wrong_password")
    assert (await client.get("/api/users/me", headers=_bearer(other_device))).status_code == 200

    changed = await client.post(
        "/api/users/me/password",
        json={"current_password": customer.password, "new_password": "a brand new secret"},
        headers=_bearer(this_device),
    )
    assert changed.status_code == 200, changed.text
    continued = TokenPair.model_validate(changed.json())
    assert (await client.get("/api/users/me", headers=_bearer(continued))).status_code == 200
    assert (await _refresh(client, continued)).status_code == 200
    for pair in (other_device, this_device):
        assert_problem(
            await client.get("/api/users/me", headers=_bearer(pair)), 401, "auth.invalid_token"
        )
    old = await client.post(
        "/api/auth/login", json={"email": customer.email, "password": customer.password}
    )
    assert_problem(old, 401, "auth.invalid_credentials")
    new = await client.post(
        "/api/auth/login", json={"email": customer.email, "password": "a brand new secret"}
    )
    assert new.status_code == 200


async def test_a_new_password_follows_the_registration_rules(
    client: httpx.AsyncClient, customer: UserWithPassword, customer_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/api/users/me/password",
        json={"current_password": customer.password, "new_password": "short"},
        headers=customer_headers,
    )
    assert_problem(response, 422, "request.validation_failed")


async def test_an_admin_disables_an_account_at_once(
    client: httpx.AsyncClient,
    customer: UserWithPassword,
    admin_headers: dict[str, str],
    customer_headers: dict[str, str],
) -> None:
    pair = await login(client, customer)
    assert (await client.get("/api/users/me", headers=customer_headers)).status_code == 200
    url = f"/api/admin/users/{customer.id}"
    refused = await client.patch(url, json={"is_active": False}, headers=customer_headers)
    assert_problem(refused, 403, "auth.permission_denied")

    disabled = await client.patch(url, json={"is_active": False}, headers=admin_headers)
    assert disabled.json()["is_active"] is False
    assert_problem(
        await client.get("/api/users/me", headers=customer_headers), 401, "auth.invalid_token"
    )
    assert_problem(await _refresh(client, pair), 401, "auth.invalid_token")
    relogin = await client.post(
        "/api/auth/login", json={"email": customer.email, "password": customer.password}
    )
    assert_problem(relogin, 401, "auth.invalid_credentials")

    enabled = await client.patch(url, json={"is_active": True}, headers=admin_headers)
    assert enabled.json()["is_active"] is True
    # Enabling does not revive the tokens of before; a new login works.
    assert_problem(
        await client.get("/api/users/me", headers=customer_headers), 401, "auth.invalid_token"
    )
    fresh = await login(client, customer)
    missing = await client.patch(
        "/api/admin/users/999999999", json={"is_active": False}, headers=admin_headers
    )
    assert_problem(missing, 404, "accounts.user_not_found")
    mass = await client.patch(url, json={"is_active": True, "role": "admin"}, headers=admin_headers)
    assert_problem(mass, 422, "request.validation_failed")
    assert (await client.get("/api/users/me", headers=_bearer(fresh))).json()["role"] == "customer"
