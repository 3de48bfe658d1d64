"""Orders SQL: keyset pages, line loading, and which rows a lock may see."""

from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Database, utcnow
from apiforge.kit.testing import count_queries
from apiforge.shop.catalog.models import Category
from apiforge.shop.orders.repository import NewOrderLine, OrderRepository
from tests.factories import UserWithPassword, create_product


async def test_keyset_page_newest_first_filtered_by_user(
    session: AsyncSession, customer: UserWithPassword, other_customer: UserWithPassword
) -> None:
    repo = OrderRepository(session)
    mine = [
        (await repo.add(user_id=customer.id, api_key_id=None, total_minor=100)).id for _ in range(4)
    ]
    theirs = (await repo.add(user_id=other_customer.id, api_key_id=None, total_minor=100)).id

    page = await repo.page(user_id=customer.id, before_id=mine[2], limit=10)
    everyone = await repo.page_all(user_id=None, before_id=None, limit=10)

    assert [row.id for row in page] == [mine[1], mine[0]]
    assert [row.id for row in everyone] == sorted([*mine, theirs], reverse=True)


async def test_lines_come_back_per_order_in_insertion_order(
    session: AsyncSession, category: Category, customer: UserWithPassword
) -> None:
    b = await create_product(session, category=category, name="B")
    a = await create_product(session, category=category, name="A")
    repo = OrderRepository(session)
    first = (await repo.add(user_id=customer.id, api_key_id=None, total_minor=300)).id
    second = (await repo.add(user_id=customer.id, api_key_id=None, total_minor=100)).id
    await repo.add_lines(first, [NewOrderLine(b.id, "B", 1, 100), NewOrderLine(a.id, "A", 2, 100)])
    await repo.add_lines(second, [NewOrderLine(a.id, "A", 1, 100)])

    rows = await repo.lines_of([second, first])

    assert [(r.order_id, r.product_name, r.quantity) for r in rows] == [
        (first, "B", 1),
        (first, "A", 2),
        (second, "A", 1),
    ]


async def test_no_orders_no_line_query(session: AsyncSession, database: Database) -> None:
    with count_queries(database.engine) as queries:
        assert await OrderRepository(session).lines_of([]) == []
    assert queries.data_statements == []


async def test_find_sees_any_order_by_id_with_its_owner(
    session: AsyncSession, customer: UserWithPassword
) -> None:
    """Finding by id crosses tenants on purpose: the order's owner decides access."""
    repo = OrderRepository(session)
    order_id = (await repo.add(user_id=customer.id, api_key_id=None, total_minor=100)).id

    assert await repo.find(order_id + 1) is None
    locked = await repo.find(order_id, lock=True)
    assert locked is not None
    assert (locked.status, locked.user_id, locked.organization_id) == (
        "placed",
        customer.id,
        None,
    )

    cancelled = await repo.mark_cancelled(order_id, utcnow())
    assert (cancelled.status, cancelled.cancelled_at is not None) == ("cancelled", True)
