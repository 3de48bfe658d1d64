"""Webhooks in production shape: the shop served by its own process on PostgreSQL with the Redis
job broker, and `apiforge worker` beside it, which runs the outbox relay (the API's processes
do not, on PostgreSQL). An organization order placed over HTTP reaches the loopback receiver,
signed; the delivery is listed as succeeded."""

import time
import uuid
from pathlib import Path

import httpx

from tests.kit.webhooks.receiver import running_receiver, spec_verify
from tests.live_server import PASSWORD, live_shop_server, scratch_database
from tests.shop.events.processes import apiforge_process

# A bound on waiting for the processes (never a timing assertion: a loaded machine is slow).
WAIT_SECONDS = 60


def _env(redis_url: str) -> dict[str, str]:
    return {
        "APIFORGE_REDIS_URL": redis_url,
        "APIFORGE_JOBS__ENABLED": "true",
        # A queue of this test's own: other tests' workers share the Redis database.
        "APIFORGE_JOBS__QUEUE": f"apiforge-test:{uuid.uuid4().hex}:jobs",
        "APIFORGE_WEBHOOKS__ALLOW_PRIVATE_TARGETS": "true",
        "APIFORGE_EVENTS__POLL_INTERVAL_SECONDS": "0.1",
        "APIFORGE_MAIL__PORT": "1",  # no SMTP here: the confirmation mail's job fails, alone
    }


def test_an_order_reaches_the_receiver_through_the_worker(
    postgres_admin: str, redis_url: str, tmp_path: Path
) -> None:
    env = _env(redis_url)
    with (
        running_receiver() as receiver,
        scratch_database("postgres", tmp_path, postgres_admin) as url,
        live_shop_server(url, env=env) as base,
        apiforge_process(["worker", "--no-health"], url, env),
        httpx.Client(base_url=base, timeout=10) as client,
    ):
        login = client.post(
            "/api/auth/login", json={"email": "customer@example.com", "password": PASSWORD}
        )
        owner = {"Authorization": f"Bearer {login.json()['access_token']}"}
        org = client.post("/api/organizations", json={"name": "Hooks"}, headers=owner)
        assert org.status_code == 201, org.text
        hooks = f"/api/organizations/{org.json()['id']}/webhooks"
        created = client.post(
            hooks, json={"url": receiver.url, "event_types": ["order.placed"]}, headers=owner
        )
        assert created.status_code == 201, created.text
        products = client.get("/api/products", params={"limit": 5}).json()["items"]
        product = next(item for item in products if item["stock"] > 0)  # the seed has some 0
        order = client.post(
            f"/api/organizations/{org.json()['id']}/orders",
            json={"items": [{"product_id": product["id"], "quantity": 1}]},
            headers=owner,
        )
        assert order.status_code == 201, order.text

        deadline = time.monotonic() + WAIT_SECONDS
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
        [received] = receiver.received
        assert spec_verify(created.json()["secret"], received.headers, received.body)
        assert f'"order_id":{order.json()["id"]}' in received.body.decode()
        listing = f"{hooks}/{created.json()['id']}/deliveries"
        while time.monotonic() < deadline:
            [delivery] = client.get(listing, headers=owner).json()
            if delivery["status"] != "pending":
                break
            time.sleep(0.1)
        assert (delivery["status"], delivery["attempts"]) == ("succeeded", 1)
