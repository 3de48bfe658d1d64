"""Response serialisation, pydantic's own JSON (FastAPI's path with a response model) vs
orjson over model_dump(): one page of 20 orders with 3 lines each.

Run: .venv/bin/python scripts/micro/serialization.py
"""

import timeit
from datetime import UTC, datetime

import orjson
from pydantic import TypeAdapter

from apiforge.kit.pagination import Page
from apiforge.shop.orders.schemas import OrderLineRead, OrderRead

now = datetime.now(UTC)
orders = [
    OrderRead.model_construct(
        id=i,
        status="placed",
        total=12345,
        created_at=now,
        cancelled_at=None,
        items=[
            OrderLineRead.model_construct(
                product_id=j,
                product_name=f"Product {j}",
                quantity=2,
                unit_price=1999,
                line_total=3998,
            )
            for j in range(3)
        ],
    )
    for i in range(20)
]
page = Page[OrderRead].model_construct(items=orders, next_cursor="abc")
adapter = TypeAdapter(Page[OrderRead])
n = 5000
a = min(timeit.repeat(lambda: adapter.dump_json(page), number=n, repeat=5)) / n * 1e6
b = (
    min(
        timeit.repeat(
            lambda: orjson.dumps(adapter.dump_python(page, mode="json")), number=n, repeat=5
        )
    )
    / n
    * 1e6
)
c = min(timeit.repeat(lambda: orjson.dumps(page.model_dump()), number=n, repeat=5)) / n * 1e6
assert orjson.loads(adapter.dump_json(page)) == orjson.loads(
    orjson.dumps(adapter.dump_python(page, mode="json"))
)
print(f"pydantic dump_json (FastAPI's path):        {a:6.1f} us")
print(f"orjson(dump_python(mode='json')):          {b:6.1f} us")
print(f"orjson(model_dump()), money not formatted: {c:6.1f} us")
