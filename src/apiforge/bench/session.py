"""What a scenario needs from a target before the load, over HTTP: a bearer token for the
demo customer (or an API key of the organization it owns), restocked products for checkouts,
and orders for `GET /api/orders` and the organization's listing."""

from dataclasses import dataclass, field

import httpx

from apiforge.bench.scenario import Scenario

CUSTOMER_EMAIL = "customer@example.com"
ADMIN_EMAIL = "admin@example.com"
# Far above what any run can sell, and below the column's 32-bit limit.
BENCH_STOCK = 2_000_000_000
SETUP_ORDER_LINES = 3
# The seed's demo organization: the first row of a fresh database (scenarios name it in paths).
DEMO_ORGANIZATION_ID = 1


@dataclass
class Prepared:
    headers: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def login(client: httpx.Client, email: str, password: str) -> str | None:
    response = client.post("/api/auth/login", json={"email": email, "password": password})
    if response.status_code != 200:
        return None
    token: str = response.json()["access_token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _restock(client: httpx.Client, password: str, ids: tuple[int, int], notes: list[str]) -> None:
    token = login(client, ADMIN_EMAIL, password)
    if token is None:
        notes.append("restock skipped: the demo admin could not log in")
        return
    failed = 0
    for product_id in range(ids[0], ids[1] + 1):
        response = client.patch(
            f"/api/products/{product_id}", json={"stock": BENCH_STOCK}, headers=_bearer(token)
        )
        failed += response.status_code != 200
    if failed:
        notes.append(f"restock: {failed} of {ids[1] - ids[0] + 1} products not updated")


def _place_orders(
    client: httpx.Client,
    headers: dict[str, str],
    count: int,
    notes: list[str],
    path: str = "/api/orders",
) -> None:
    items = [{"product_id": i, "quantity": 1} for i in range(1, SETUP_ORDER_LINES + 1)]
    failed = sum(
        client.post(path, json={"items": items}, headers=headers).status_code != 201
        for _ in range(count)
    )
    if failed:
        notes.append(f"set-up orders ({path}): {failed} of {count} not placed")


def _api_key(client: httpx.Client, customer: dict[str, str], notes: list[str]) -> dict[str, str]:
    """An API key of the demo organization (the first the customer belongs to)."""
    organizations = client.get("/api/organizations", headers=customer)
    if organizations.status_code != 200 or not organizations.json():
        notes.append("no organization of the demo customer: requests go without a key")
        return {}
    made = client.post(
        f"/api/organizations/{organizations.json()[0]['id']}/api-keys",
        json={"name": "bench", "scopes": ["orders:read", "orders:write"]},
        headers=customer,
    )
    if made.status_code != 201:
        notes.append(f"the API key was refused ({made.status_code}): requests go without one")
        return {}
    return {"X-API-Key": made.json()["key"]}


def prepare(base_url: str, scenario: Scenario, password: str) -> Prepared:
    """Log in and run the scenario's set-up; what fails becomes a note, never an exception,
    so a target lacking an endpoint shows up as errors in the results."""
    prepared = Prepared()
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        if scenario.setup.restock is not None:
            _restock(client, password, scenario.setup.restock, prepared.notes)
        setup = scenario.setup
        needs_customer = scenario.auth != "none" or setup.orders or setup.organization_orders
        if needs_customer:
            token = login(client, CUSTOMER_EMAIL, password)
            if token is None:
                prepared.notes.append("the demo customer could not log in: requests go anonymous")
            else:
                _customer_setup(client, scenario, _bearer(token), prepared)
    return prepared


def _customer_setup(
    client: httpx.Client, scenario: Scenario, customer: dict[str, str], prepared: Prepared
) -> None:
    setup = scenario.setup
    if scenario.auth == "customer":
        prepared.headers = customer
    elif scenario.auth == "api_key":
        prepared.headers = _api_key(client, customer, prepared.notes)
    if setup.orders:
        _place_orders(client, customer, setup.orders, prepared.notes)
    if setup.organization_orders:
        path = f"/api/organizations/{DEMO_ORGANIZATION_ID}/orders"
        _place_orders(client, customer, setup.organization_orders, prepared.notes, path)
