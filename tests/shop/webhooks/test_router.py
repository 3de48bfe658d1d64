"""An organization's webhook endpoints over HTTP, on SQLite and PostgreSQL: registered by its
owners and admins with the secret shown once, SSRF-checked at registration (refused targets
write nothing), listed and read without the secret, disabled, re-enabled and deleted, their
deliveries listed; another organization's endpoint is a 404; the secret is stored sealed and
resealed under a new key."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    Database,
    SecretSealer,
    WebhookDispatcher,
    WebhookEvent,
    app_state,
    reseal_secrets,
    webhook_sealer,
)
from apiforge.shop.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.answers import assert_problem
from tests.conftest import Org

PUBLIC_URL = "https://93.184.216.34/hooks/shop"
READ_FIELDS = {
    "id",
    "url",
    "description",
    "event_types",
    "status",
    "paused_reason",
    "failing_since",
    "created_at",
}


def url_of(org: Org, *rest: object) -> str:
    return "/".join([f"/api/organizations/{org.id}/webhooks", *map(str, rest)])


async def register(
    client: httpx.AsyncClient, org: Org, role: str = "owner", **body: Any
) -> httpx.Response:
    sent = {"url": PUBLIC_URL, "event_types": ["order.paid", "order.placed"]} | body
    return await client.post(url_of(org), json=sent, headers=org.headers[role])


@pytest.mark.parametrize("role", ["owner", "admin"])
async def test_managers_register_an_endpoint_and_see_its_secret_once(
    client: httpx.AsyncClient, org: Org, role: str, caplog: pytest.LogCaptureFixture
) -> None:
    created = await register(client, org, role, description="ERP")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert set(body) == READ_FIELDS | {"secret"}
    assert body["event_types"] == ["order.paid", "order.placed"]
    assert (body["status"], body["url"], body["description"]) == ("active", PUBLIC_URL, "ERP")
    listed = await client.get(url_of(org), headers=org.headers["owner"])
    got = await client.get(url_of(org, body["id"]), headers=org.headers["owner"])
    for answer in (listed, got):
        assert answer.status_code == 200
        assert body["secret"] not in answer.text
        assert "secret" not in answer.text
    assert [item["id"] for item in listed.json()] == [body["id"]]
    assert body["secret"] not in caplog.text


@pytest.mark.parametrize("role", ["buyer", "viewer"])
async def test_members_below_admin_may_not_manage_endpoints(
    client: httpx.AsyncClient, org: Org, role: str
) -> None:
    assert_problem(await register(client, org, role), 403, "auth.permission_denied")
    listed = await client.get(url_of(org), headers=org.headers[role])
    assert_problem(listed, 403, "auth.permission_denied")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://localhost/hook",
        "ftp://93.184.216.34/hook",
        "https://user:secret@93.184.216.34/hook",
        "javascript:alert(1)//x",
    ],
)
async def test_ssrf_targets_are_refused_at_registration_and_nothing_is_written(
    client: httpx.AsyncClient, org: Org, url: str
) -> None:
    refused = await register(client, org, url=url)
    assert_problem(refused, 422, "webhooks.target_refused")
    assert (await client.get(url_of(org), headers=org.headers["owner"])).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"event_types": ["order.refunded"]},
        {"event_types": []},
        {"url": "x"},
        {"url": "https://93.184.216.34/" + "a" * 3000},
        {"secret": "whsec_mine"},
        {"status": "paused"},
    ],
)
async def test_bad_bodies_are_422(
    client: httpx.AsyncClient, org: Org, body: dict[str, Any]
) -> None:
    assert_problem(await register(client, org, **body), 422, "request.validation_failed")


async def test_another_organizations_endpoint_is_404_everywhere(
    client: httpx.AsyncClient, org: Org, other_org: Org
) -> None:
    mine = (await register(client, other_org)).json()["id"]
    owner_a = org.headers["owner"]
    for method, url, json in [
        ("GET", url_of(org, mine), None),
        ("PATCH", url_of(org, mine), {"enabled": False}),
        ("DELETE", url_of(org, mine), None),
        ("GET", url_of(org, mine, "deliveries"), None),
    ]:
        answer = await client.request(method, url, json=json, headers=owner_a)
        assert_problem(answer, 404, "webhooks.endpoint_not_found")
    # And B's organization itself is hidden from A's owner.
    assert_problem(
        await client.get(url_of(other_org), headers=owner_a), 404, "organizations.not_found"
    )
    still = await client.get(url_of(other_org, mine), headers=other_org.headers["owner"])
    assert still.json()["status"] == "active"


async def test_disable_enable_and_delete(client: httpx.AsyncClient, org: Org) -> None:
    endpoint = (await register(client, org)).json()["id"]
    owner = org.headers["owner"]
    disabled = await client.patch(url_of(org, endpoint), json={"enabled": False}, headers=owner)
    assert disabled.json()["status"] == "disabled"
    enabled = await client.patch(url_of(org, endpoint), json={"enabled": True}, headers=owner)
    assert enabled.json()["status"] == "active"
    assert (await client.delete(url_of(org, endpoint), headers=owner)).status_code == 204
    assert_problem(
        await client.get(url_of(org, endpoint), headers=owner), 404, "webhooks.endpoint_not_found"
    )
    assert_problem(
        await client.delete(url_of(org, endpoint), headers=owner),
        404,
        "webhooks.endpoint_not_found",
    )


async def test_deliveries_are_listed_newest_first_with_their_state(
    client: httpx.AsyncClient, session: AsyncSession, org: Org
) -> None:
    endpoint = (await register(client, org)).json()["id"]
    dispatcher = WebhookDispatcher(WebhookEndpoint, WebhookDelivery)
    for n in range(3):
        event = WebhookEvent(f"evt_{n}", "order.paid", org.id, {"order_id": n})
        assert len(await dispatcher.accept(session, event)) == 1
    # An event the endpoint is not subscribed to, and one of another tenant: no delivery.
    assert await dispatcher.accept(session, WebhookEvent("evt_x", "stock.low", org.id, {})) == []
    assert (
        await dispatcher.accept(session, WebhookEvent("evt_y", "order.paid", org.id + 999, {}))
        == []
    )
    owner = org.headers["owner"]
    listed = await client.get(url_of(org, endpoint, "deliveries"), headers=owner)
    assert listed.status_code == 200
    rows = listed.json()
    assert [row["event_id"] for row in rows] == ["evt_2", "evt_1", "evt_0"]
    first = rows[0]
    assert (first["status"], first["attempts"], first["last_status_code"]) == ("pending", 0, None)
    assert first["next_attempt_at"] is not None
    assert first["message_id"].startswith("msg_")
    page = await client.get(
        url_of(org, endpoint, "deliveries"),
        params={"limit": 1, "before_id": rows[0]["id"]},
        headers=owner,
    )
    assert [row["event_id"] for row in page.json()] == ["evt_1"]
    bad = await client.get(url_of(org, endpoint, "deliveries"), params={"limit": 0}, headers=owner)
    assert_problem(bad, 422, "request.validation_failed")


async def test_the_organizations_deliveries_are_listed_across_its_endpoints_only(
    client: httpx.AsyncClient, session: AsyncSession, org: Org, other_org: Org
) -> None:
    first = (await register(client, org)).json()["id"]
    second = (await register(client, org, event_types=["order.paid"])).json()["id"]
    theirs = (await register(client, other_org)).json()["id"]
    dispatcher = WebhookDispatcher(WebhookEndpoint, WebhookDelivery)
    await dispatcher.accept(session, WebhookEvent("evt_placed", "order.placed", org.id, {}))
    await dispatcher.accept(session, WebhookEvent("evt_paid", "order.paid", org.id, {}))
    await dispatcher.accept(session, WebhookEvent("evt_b", "order.paid", other_org.id, {}))
    owner = org.headers["owner"]
    listed = await client.get(url_of(org, "deliveries"), headers=owner)
    assert listed.status_code == 200, listed.text
    rows = listed.json()
    assert [(row["endpoint_id"], row["event_id"]) for row in rows] == [
        (second, "evt_paid"),
        (first, "evt_paid"),
        (first, "evt_placed"),
    ]
    assert theirs not in {row["endpoint_id"] for row in rows}
    for row in rows:
        assert (row["status"], row["attempts"], row["last_status_code"]) == ("pending", 0, None)
        assert row["next_attempt_at"] is not None
    page = await client.get(
        url_of(org, "deliveries"), params={"before_id": rows[0]["id"], "limit": 1}, headers=owner
    )
    assert [row["id"] for row in page.json()] == [rows[1]["id"]]
    done = await client.get(url_of(org, "deliveries"), params={"status": "failed"}, headers=owner)
    assert done.json() == []
    pending = await client.get(
        url_of(org, "deliveries"), params={"status": "pending"}, headers=owner
    )
    assert len(pending.json()) == 3
    bad = await client.get(url_of(org, "deliveries"), params={"status": "lost"}, headers=owner)
    assert_problem(bad, 422, "request.validation_failed")
    viewer = await client.get(url_of(org, "deliveries"), headers=org.headers["viewer"])
    assert_problem(viewer, 403, "auth.permission_denied")


async def test_the_secret_is_stored_sealed_and_resealed_under_a_new_key(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, org: Org, database: Database
) -> None:
    created = (await register(client, org)).json()
    stored = await session.scalar(
        select(WebhookEndpoint.secret)
        .where(WebhookEndpoint.id == created["id"])
        .execution_options(apiforge_cross_tenant="test")
    )
    assert stored is not None
    assert stored.startswith("sealed:v1:")
    assert created["secret"].removeprefix("whsec_") not in stored
    settings = app_state(app).settings
    assert webhook_sealer(settings).open(stored) == created["secret"]

    # A new key first, the one derived from the secret key after it: reseal, then drop it.
    rotated = SecretSealer.from_material(
        ["the-next-sealing-key-of-32-characters", settings.signing_key]
    )
    assert await reseal_secrets(database, WebhookEndpoint, rotated) == 1
    assert await reseal_secrets(database, WebhookEndpoint, rotated) == 0
    session.expire_all()
    resealed = await session.scalar(
        select(WebhookEndpoint.secret)
        .where(WebhookEndpoint.id == created["id"])
        .execution_options(apiforge_cross_tenant="test")
    )
    assert resealed is not None
    assert resealed != stored
    new_only = SecretSealer.from_material(["the-next-sealing-key-of-32-characters"])
    assert new_only.open(resealed) == created["secret"]
