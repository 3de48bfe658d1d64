"""API keys over HTTP: made by an organization's admins and owners with scopes and an optional
expiry, shown once in a recognisable form, listed without their secret, accepted as `X-API-Key`
or as a bearer token for their organization only, refused the moment they are revoked or
expire, and checked without a database query once cached."""

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Database, Principal, TenantAccess, app_state
from apiforge.kit.testing import count_queries
from apiforge.shop.api_keys.errors import ScopeTooWideError
from apiforge.shop.api_keys.schemas import ApiKeyCreate
from apiforge.shop.api_keys.service import ApiKeyService
from apiforge.shop.roles import Scope
from tests.answers import assert_problem
from tests.conftest import Org
from tests.factories import create_api_key

KEY_FORM = re.compile(r"afk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}")
LISTED_FIELDS = {
    "id",
    "name",
    "prefix",
    "scopes",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
}


def _keys_url(org: Org, key_id: int | None = None) -> str:
    base = f"/api/organizations/{org.id}/api-keys"
    return base if key_id is None else f"{base}/{key_id}"


def _orders_url(org: Org) -> str:
    return f"/api/organizations/{org.id}/orders"


async def test_a_key_is_shown_once_and_listed_without_its_secret(
    client: httpx.AsyncClient, org: Org
) -> None:
    created = await client.post(
        _keys_url(org),
        json={"name": "ERP sync", "scopes": ["orders:write", "orders:read", "orders:read"]},
        headers=org.headers["admin"],
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert KEY_FORM.fullmatch(body["key"])
    assert body["key"].startswith(body["prefix"] + "_")
    assert body["scopes"] == ["orders:read", "orders:write"]

    listed = await client.get(_keys_url(org), headers=org.headers["owner"])
    assert [set(item) for item in listed.json()] == [LISTED_FIELDS]
    assert body["key"] not in listed.text
    assert body["key"].rsplit("_", 1)[1] not in listed.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "k", "scopes": ["admin"]}, "scopes"),
        ({"name": "k", "scopes": []}, "scopes"),
        ({"name": "k", "scopes": ["orders:read"], "organization_id": 1}, "organization_id"),
        ({"name": "k", "scopes": ["orders:read"], "key": "afk_x"}, "key"),
        ({"name": "k", "scopes": ["orders:read"], "expires_at": "2020-01-01T00:00:00Z"}, None),
        ({"name": "k", "scopes": ["orders:read"], "expires_at": "2099-01-01T00:00:00"}, None),
    ],
    ids=["unknown-scope", "no-scope", "tenant", "own-secret", "past-expiry", "naive-expiry"],
)
async def test_a_bad_key_request_is_422_and_makes_nothing(
    client: httpx.AsyncClient, org: Org, body: dict[str, object], field: str | None
) -> None:
    response = await client.post(_keys_url(org), json=body, headers=org.headers["owner"])
    problem = assert_problem(response, 422, "request.validation_failed")
    if field is not None:
        assert field in str(problem["errors"])
    assert (await client.get(_keys_url(org), headers=org.headers["owner"])).json() == []


async def test_only_admins_and_owners_manage_keys(client: httpx.AsyncClient, org: Org) -> None:
    key = await create_api_key(client, org.id, org.headers["owner"], "orders:read")
    for role in ("buyer", "viewer"):
        for response in (
            await client.post(
                _keys_url(org),
                json={"name": "k", "scopes": ["orders:read"]},
                headers=org.headers[role],
            ),
            await client.get(_keys_url(org), headers=org.headers[role]),
            await client.delete(_keys_url(org, 1), headers=org.headers[role]),
        ):
            assert_problem(response, 403, "auth.permission_denied")
    # Nor does a key manage keys, whatever its scopes.
    assert_problem(await client.get(_keys_url(org), headers=key), 403, "auth.permission_denied")


async def test_a_key_never_grants_more_than_its_creators_role(
    app: FastAPI, session: AsyncSession, org: Org
) -> None:
    viewer = TenantAccess(org.id, Principal(str(org.users["viewer"].id), "customer"), "viewer")
    service = ApiKeyService(session, codec=app_state(app).identity.api_key_codec)
    with pytest.raises(ScopeTooWideError):
        await service.create(viewer, ApiKeyCreate(name="k", scopes=[Scope.ORDERS_WRITE]))
    made = await service.create(viewer, ApiKeyCreate(name="k", scopes=[Scope.ORDERS_READ]))
    assert made.scopes == [Scope.ORDERS_READ]


@pytest.mark.parametrize("how", ["x-api-key", "bearer"])
async def test_a_key_acts_for_its_organization_only(
    client: httpx.AsyncClient, org: Org, other_org: Org, how: str
) -> None:
    header = await create_api_key(client, org.id, org.headers["owner"], "orders:read")
    key = header["X-API-Key"]
    headers = header if how == "x-api-key" else {"Authorization": f"Bearer {key}"}
    assert (await client.get(_orders_url(org), headers=headers)).status_code == 200
    other = await client.get(_orders_url(other_org), headers=headers)
    assert_problem(other, 404, "organizations.not_found")
    # A key is not a person: personal routes refuse it.
    for url in ("/api/orders", "/api/users/me", "/api/dashboard", "/api/organizations"):
        assert_problem(await client.get(url, headers=headers), 403, "auth.permission_denied")


async def test_scopes_decide_what_a_key_may_do(client: httpx.AsyncClient, org: Org) -> None:
    reader = await create_api_key(client, org.id, org.headers["owner"], "orders:read")
    writer = await create_api_key(client, org.id, org.headers["owner"], "orders:write")
    order = {"items": [{"product_id": 10**9, "quantity": 1}]}
    refused = await client.post(_orders_url(org), json=order, headers=reader)
    assert_problem(refused, 403, "auth.permission_denied")
    past_the_check = await client.post(_orders_url(org), json=order, headers=writer)
    assert_problem(past_the_check, 404, "orders.product_unavailable")
    assert_problem(
        await client.get(_orders_url(org), headers=writer), 403, "auth.permission_denied"
    )


async def test_a_revoked_key_is_refused_at_once(client: httpx.AsyncClient, org: Org) -> None:
    key = await create_api_key(client, org.id, org.headers["owner"], "orders:read")
    assert (await client.get(_orders_url(org), headers=key)).status_code == 200  # now cached
    key_id = (await client.get(_keys_url(org), headers=org.headers["owner"])).json()[0]["id"]

    revoked = await client.delete(_keys_url(org, key_id), headers=org.headers["admin"])
    assert revoked.status_code == 204
    refused = await client.get(_orders_url(org), headers=key)
    assert_problem(refused, 401, "auth.invalid_token")
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    again = await client.delete(_keys_url(org, key_id), headers=org.headers["admin"])
    assert again.status_code == 204
    listed = (await client.get(_keys_url(org), headers=org.headers["owner"])).json()
    assert listed[0]["revoked_at"] is not None


async def test_another_organizations_key_cannot_be_revoked(
    client: httpx.AsyncClient, org: Org, other_org: Org
) -> None:
    await create_api_key(client, org.id, org.headers["owner"], "orders:read")
    key_id = (await client.get(_keys_url(org), headers=org.headers["owner"])).json()[0]["id"]
    response = await client.delete(
        f"/api/organizations/{other_org.id}/api-keys/{key_id}", headers=other_org.headers["owner"]
    )
    assert_problem(response, 404, "api_keys.not_found")
    assert (await client.get(_keys_url(org), headers=org.headers["owner"])).json()[0][
        "revoked_at"
    ] is None


async def test_an_expired_key_is_refused(client: httpx.AsyncClient, org: Org) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    key = await create_api_key(client, org.id, org.headers["owner"], "orders:read", expires_at=soon)
    assert (await client.get(_orders_url(org), headers=key)).status_code == 200
    await asyncio.sleep(1.2)
    assert_problem(await client.get(_orders_url(org), headers=key), 401, "auth.invalid_token")


async def test_a_cached_key_costs_no_query(
    client: httpx.AsyncClient, database: Database, org: Org
) -> None:
    key = await create_api_key(client, org.id, org.headers["owner"], "orders:read")
    for warm_up in (key, org.headers["viewer"]):  # the key's lookup, the member's role
        assert (await client.get(_orders_url(org), headers=warm_up)).status_code == 200
    with count_queries(database.engine) as keyed:
        assert (await client.get(_orders_url(org), headers=key)).status_code == 200
    with count_queries(database.engine) as member:
        assert (
            await client.get(_orders_url(org), headers=org.headers["viewer"])
        ).status_code == 200
    # The listing's own statement (no orders: no line query), nothing for the credential.
    assert keyed.data_statements == member.data_statements
    assert len(keyed.data_statements) == 1


async def test_last_use_is_recorded_off_the_request_path(
    app: FastAPI, client: httpx.AsyncClient, org: Org
) -> None:
    key = await create_api_key(client, org.id, org.headers["owner"], "orders:read")
    for _ in range(3):
        await client.get(_orders_url(org), headers=key)
    listed = (await client.get(_keys_url(org), headers=org.headers["owner"])).json()
    assert listed[0]["last_used_at"] is None  # not written by the requests themselves
    await app_state(app).identity.usage.flush()
    listed = (await client.get(_keys_url(org), headers=org.headers["owner"])).json()
    assert listed[0]["last_used_at"] is not None


async def test_the_docs_offer_both_credentials(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "An organization's API key (`afk_...`); also accepted as a bearer token.",
    }
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/api/auth/token"
    operation = document["paths"]["/api/organizations/{org_id}/orders"]["get"]
    assert operation["security"] == [{"OAuth2PasswordBearer": []}, {"ApiKey": []}]
