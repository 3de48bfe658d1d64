"""CPU per request of the shop process for the uncached order paths (issue 12): my orders,
checkout and the dashboard, driven in process (no server, no sockets) against the bench's
PostgreSQL database with the cache off. Process CPU, not wall time: the figure is the app's
own work per request, which a shared, loaded machine changes far less than throughput; the
database's work is not in it (it runs in PostgreSQL's processes).

Run: .venv/bin/python scripts/micro/orders_cpu.py   (needs the bench database that
`make bench BENCH_ARGS="checkout my_orders"` leaves: APIFORGE_DATABASE_URL, default
apiforge_bench; each checkout round places ORDERS orders of one unit of products 1-50)
"""

import asyncio
import os
import time
from typing import Any

import orjson
from asgi_lifespan import LifespanManager

from apiforge.kit import AccessTokenCodec, CacheSettings, Principal, RateLimitSettings
from apiforge.shop.app import create_shop_app
from apiforge.shop.settings import ShopSettings

N = 1500
ORDERS = 600
URL = os.environ.get(
    "APIFORGE_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/apiforge_bench"
)


async def _request(app: Any, method: str, path: str, token: str, body: bytes = b"") -> int:
    status = 0
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1234), "server": ("bench", 80), "state": {},
        "headers": [
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _cpu_per_request(app: Any, method: str, path: str, token: str, number: int) -> float:
    bodies = [
        orjson.dumps({"items": [{"product_id": 1 + i % 50, "quantity": 1}]}) for i in range(50)
    ]
    started = time.process_time()
    for i in range(number):
        status = await _request(
            app, method, path, token, bodies[i % 50] if method == "POST" else b""
        )
        if status not in (200, 201):
            raise RuntimeError(f"{method} {path}: {status}")
    return (time.process_time() - started) / number * 1e6


async def main() -> None:
    settings = ShopSettings.for_tests(
        URL, cache=CacheSettings(enabled=False), ratelimit=RateLimitSettings(enabled=False)
    )
    app = create_shop_app(settings)
    async with LifespanManager(app):
        database = app.state.apiforge.database
        async with database.engine.connect() as conn:
            user_id = (
                await conn.exec_driver_sql(
                    "SELECT id FROM users WHERE email = 'customer@example.com'"
                )
            ).scalar_one()
        token = AccessTokenCodec(settings.auth, settings.signing_key).issue(
            Principal(str(user_id), "customer")
        )
        paths = [
            ("GET", "/api/orders", N),
            ("POST", "/api/orders", ORDERS),
            ("GET", "/api/dashboard", N // 3),
        ]
        for _ in range(2):
            for method, path, number in paths:
                await _cpu_per_request(app, method, path, token.token, 50)  # warm
                cpu = await _cpu_per_request(app, method, path, token.token, number)
                print(f"{method} {path}: {cpu:.0f} us CPU per request ({number} requests)")


if __name__ == "__main__":
    asyncio.run(main())
