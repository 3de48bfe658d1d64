"""Organizations over HTTP: creating one makes you its owner; members are managed by admins and
owners along the role ladder (never above your own role, never someone who outranks you), the
last owner stays, and an organization out of your reach does not exist (404)."""

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import cross_tenant
from apiforge.shop.organizations.models import Membership
from tests.answers import assert_problem
from tests.conftest import Org
from tests.factories import UserWithPassword, create_api_key


def _members_url(org: Org, user_id: int | None = None) -> str:
    base = f"/api/organizations/{org.id}/members"
    return base if user_id is None else f"{base}/{user_id}"


async def _roles(client: httpx.AsyncClient, org: Org) -> dict[int, str]:
    response = await client.get(_members_url(org), headers=org.headers["viewer"])
    assert response.status_code == 200, response.text
    return {member["user_id"]: member["role"] for member in response.json()}


async def test_the_creator_owns_a_new_organization(
    client: httpx.AsyncClient, customer_headers: dict[str, str]
) -> None:
    created = await client.post(
        "/api/organizations", json={"name": "  Initech "}, headers=customer_headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["role"]) == ("Initech", "owner")

    mine = await client.get("/api/organizations", headers=customer_headers)
    assert [(o["id"], o["role"]) for o in mine.json()] == [(body["id"], "owner")]
    one = await client.get(f"/api/organizations/{body['id']}", headers=customer_headers)
    assert one.json() == body


@pytest.mark.parametrize("field", ["role", "id", "owner_id"])
async def test_a_create_body_cannot_assign_anything_else(
    client: httpx.AsyncClient,
    session: AsyncSession,
    customer_headers: dict[str, str],
    field: str,
) -> None:
    response = await client.post(
        "/api/organizations", json={"name": "X", field: 1}, headers=customer_headers
    )
    assert_problem(response, 422, "request.validation_failed")
    count = select(func.count()).select_from(Membership)
    assert await session.scalar(cross_tenant(count, reason="a test counts every membership")) == 0


async def test_an_organization_out_of_reach_does_not_exist(
    client: httpx.AsyncClient, org: Org, other_org: Org, customer_headers: dict[str, str]
) -> None:
    for url in (f"/api/organizations/{org.id}", _members_url(org), f"/api/organizations/{10**12}"):
        assert_problem(
            await client.get(url, headers=other_org.headers["owner"]),
            404,
            "organizations.not_found",
        )
        assert_problem(
            await client.get(url, headers=customer_headers), 404, "organizations.not_found"
        )
    listed = await client.get("/api/organizations", headers=other_org.headers["owner"])
    assert [o["id"] for o in listed.json()] == [other_org.id]


async def test_every_member_reads_the_members_with_their_roles(
    client: httpx.AsyncClient, org: Org
) -> None:
    assert await _roles(client, org) == {user.id: role for role, user in org.users.items()}
    response = await client.get(_members_url(org), headers=org.headers["viewer"])
    assert set(response.json()[0]) == {"user_id", "email", "full_name", "role", "joined_at"}


async def test_admins_add_registered_users_by_email(
    client: httpx.AsyncClient, org: Org, customer: UserWithPassword
) -> None:
    added = await client.post(
        _members_url(org),
        json={"email": customer.email.upper(), "role": "buyer"},
        headers=org.headers["admin"],
    )
    assert added.status_code == 201, added.text
    assert (added.json()["user_id"], added.json()["role"]) == (customer.id, "buyer")
    again = await client.post(
        _members_url(org), json={"email": customer.email}, headers=org.headers["admin"]
    )
    assert_problem(again, 409, "organizations.already_member")
    stranger = await client.post(
        _members_url(org), json={"email": "nobody@example.com"}, headers=org.headers["owner"]
    )
    assert_problem(stranger, 404, "organizations.unknown_user")


@pytest.mark.parametrize(
    ("actor", "role", "status", "code"),
    [
        ("admin", "owner", 403, "organizations.role_too_high"),  # above the admin's own
        ("buyer", "viewer", 403, "auth.permission_denied"),  # buyers manage nobody
        ("viewer", "viewer", 403, "auth.permission_denied"),
        ("owner", "owner", 201, None),
        ("admin", "admin", 201, None),
    ],
)
async def test_nobody_grants_a_role_above_their_own(
    client: httpx.AsyncClient,
    org: Org,
    customer: UserWithPassword,
    actor: str,
    role: str,
    status: int,
    code: str | None,
) -> None:
    response = await client.post(
        _members_url(org), json={"email": customer.email, "role": role}, headers=org.headers[actor]
    )
    if code is None:
        assert response.status_code == status, response.text
    else:
        assert_problem(response, status, code)


async def test_role_changes_follow_the_ladder_and_keep_an_owner(
    client: httpx.AsyncClient, org: Org
) -> None:
    owner, admin, buyer = org.users["owner"], org.users["admin"], org.users["buyer"]
    url = _members_url(org, owner.id)

    demote_owner = await client.patch(url, json={"role": "viewer"}, headers=org.headers["admin"])
    assert_problem(demote_owner, 403, "organizations.role_too_high")  # outranks the admin
    last = await client.patch(url, json={"role": "admin"}, headers=org.headers["owner"])
    assert_problem(last, 409, "organizations.last_owner")

    promoted = await client.patch(
        _members_url(org, buyer.id), json={"role": "admin"}, headers=org.headers["admin"]
    )
    assert promoted.json()["role"] == "admin"
    second_owner = await client.patch(
        _members_url(org, admin.id), json={"role": "owner"}, headers=org.headers["owner"]
    )
    assert second_owner.json()["role"] == "owner"
    stepped_down = await client.patch(url, json={"role": "viewer"}, headers=org.headers["owner"])
    assert stepped_down.json()["role"] == "viewer"
    assert (await _roles(client, org))[owner.id] == "viewer"


async def test_a_new_role_takes_effect_on_the_next_request(
    client: httpx.AsyncClient, org: Org, customer: UserWithPassword
) -> None:
    viewer = org.users["viewer"]
    place = f"/api/organizations/{org.id}/orders"
    body = {"items": [{"product_id": 10**9, "quantity": 1}]}
    refused = await client.post(place, json=body, headers=org.headers["viewer"])
    assert_problem(refused, 403, "auth.permission_denied")  # (the role is now cached)
    await client.patch(
        _members_url(org, viewer.id), json={"role": "buyer"}, headers=org.headers["owner"]
    )
    allowed = await client.post(place, json=body, headers=org.headers["viewer"])
    assert_problem(allowed, 404, "orders.product_unavailable")  # past the role check


async def test_members_leave_and_admins_remove(client: httpx.AsyncClient, org: Org) -> None:
    viewer, buyer, owner = org.users["viewer"], org.users["buyer"], org.users["owner"]
    removing_other = await client.delete(_members_url(org, buyer.id), headers=org.headers["viewer"])
    assert_problem(removing_other, 403, "organizations.role_too_high")
    admin_removes_owner = await client.delete(
        _members_url(org, owner.id), headers=org.headers["admin"]
    )
    assert_problem(admin_removes_owner, 403, "organizations.role_too_high")
    last_owner_leaves = await client.delete(
        _members_url(org, owner.id), headers=org.headers["owner"]
    )
    assert_problem(last_owner_leaves, 409, "organizations.last_owner")

    leaving = await client.delete(_members_url(org, viewer.id), headers=org.headers["viewer"])
    assert leaving.status_code == 204
    removed = await client.delete(_members_url(org, buyer.id), headers=org.headers["admin"])
    assert removed.status_code == 204
    # Gone at once, although their membership had been cached by their earlier requests.
    after = await client.get(f"/api/organizations/{org.id}", headers=org.headers["viewer"])
    assert_problem(after, 404, "organizations.not_found")
    assert set(await _roles_as(client, org, "admin")) == {owner.id, org.users["admin"].id}
    missing = await client.delete(_members_url(org, buyer.id), headers=org.headers["admin"])
    assert_problem(missing, 404, "organizations.member_not_found")


async def _roles_as(client: httpx.AsyncClient, org: Org, role: str) -> dict[int, str]:
    response = await client.get(_members_url(org), headers=org.headers[role])
    return {member["user_id"]: member["role"] for member in response.json()}


async def test_api_keys_read_members_with_their_scope_only(
    client: httpx.AsyncClient, org: Org
) -> None:
    reader = await create_api_key(client, org.id, org.headers["owner"], "members:read")
    orders_only = await client.post(
        f"/api/organizations/{org.id}/api-keys",
        json={"name": "orders", "scopes": ["orders:read"]},
        headers=org.headers["owner"],
    )
    key = {"X-API-Key": orders_only.json()["key"]}
    assert (await client.get(_members_url(org), headers=reader)).status_code == 200
    assert_problem(await client.get(_members_url(org), headers=key), 403, "auth.permission_denied")
    # No scope lets a key manage people, or read the organization's profile.
    for response in (
        await client.post(_members_url(org), json={"email": "x@example.com"}, headers=reader),
        await client.get(f"/api/organizations/{org.id}", headers=reader),
        await client.get("/api/organizations", headers=reader),
    ):
        assert_problem(response, 403, "auth.permission_denied")
