"""The orders' statements PostgreSQL runs by the driver (`DriverQuery`), for the hot paths
where SQLAlchemy's execution and the rendering cost more than the database does: a page of
orders and the dashboard's figures as the wire's JSON, an order written with its lines in one
statement. The repository uses them on PostgreSQL only; SQLite takes its Core statements."""

from apiforge.kit import DriverQuery, money_text_sql, utc_text_sql

# A page of orders as the wire has it (`OrderJSON` items, newest first), built by PostgreSQL
# and run by the driver in one statement: through SQLAlchemy the two statements and the
# rendering cost the listing several times what the database does (BENCHMARKS.md, issue 12).
# The filter is the same as `scoped`'s (and RLS, bound by the service, applies too). $1: the
# tenant (an organization's listing) or the user (a personal one); $2: the id to resume
# before; $3: the page size. Answers the items' JSON text, the last one's id and whether more
# follow (the row past the page is read, never rendered: FILTER skips its arguments).
_LINES_JSON = (
    "SELECT coalesce(json_agg(json_build_object('product_id', l.product_id, "  # noqa: S608  # constant fragments
    "'product_name', l.product_name, 'quantity', l.quantity, "
    f"'unit_price', {money_text_sql('l.unit_price_minor')}, "
    f"'line_total', {money_text_sql('l.unit_price_minor * l.quantity')}) ORDER BY l.id), '[]') "
    "FROM order_lines l WHERE l.order_id = o.id"
)


def _page_json(scope: str) -> DriverQuery:
    return DriverQuery(
        "SELECT coalesce(json_agg(json_build_object('id', o.id, "  # noqa: S608  # constant fragments; values are $n
        "'organization_id', o.organization_id, 'status', o.status, "
        f"'total', {money_text_sql('o.total_minor')}, "
        f"'created_at', {utc_text_sql('o.created_at')}, "
        f"'cancelled_at', {utc_text_sql('o.cancelled_at')}, 'items', ({_LINES_JSON})) "
        "ORDER BY o.id DESC) FILTER (WHERE o.n <= $3), '[]')::text, "
        "min(o.id) FILTER (WHERE o.n <= $3), count(*) > $3 "
        "FROM (SELECT id, organization_id, status, total_minor, created_at, cancelled_at, "
        "row_number() OVER (ORDER BY id DESC) AS n FROM orders "
        f"WHERE {scope} AND id < $2 ORDER BY id DESC LIMIT $3 + 1) o"
    )


PAGE_JSON = {
    True: _page_json("organization_id IS NULL AND user_id = $1"),
    False: _page_json("organization_id = $1"),
}
# Where a page starts without a cursor: before any id a bigint can hold.
BEFORE_EVERY_ID = 2**63 - 1

# The dashboard's order reads as the wire has them, in one statement run by the driver: one
# session and one round trip instead of three of each (BENCHMARKS.md, issue 12). $1: the
# user (their own, personal orders); $2: how many recent orders; $3: how many top categories
# (`DASHBOARD_WITH_TOP` only: without it they come from the cache).
_MINE_SQL = "FROM orders WHERE organization_id IS NULL AND user_id = $1"
# PostgreSQL sums a bigint into a numeric, which the money text needs back as a bigint.
_SPENT = "coalesce(sum(total_minor) FILTER (WHERE status <> 'cancelled'), 0)::bigint"
_DASHBOARD_SQL = (
    "SELECT (SELECT json_build_object('count', count(*), 'total_spent', "  # noqa: S608  # constant fragments; values are $n
    f"{money_text_sql(_SPENT)})::text "
    f"{_MINE_SQL}), "
    "(SELECT coalesce(json_agg(json_build_object('id', r.id, 'status', r.status, "
    f"'total', {money_text_sql('r.total_minor')}, 'created_at', {utc_text_sql('r.created_at')}) "
    "ORDER BY r.id DESC), '[]')::text FROM (SELECT id, status, total_minor, created_at "
    f"{_MINE_SQL} ORDER BY id DESC LIMIT $2) r)"
)
_TOP_SQL = (
    "(SELECT coalesce(json_agg(json_build_object('id', t.id, 'name', t.name, "
    "'units_sold', t.units_sold) ORDER BY t.units_sold DESC, t.id), '[]')::text FROM "
    "(SELECT c.id, c.name, sum(s.units)::bigint AS units_sold FROM (SELECT l.product_id, "
    "sum(l.quantity) AS units FROM order_lines l JOIN orders o ON o.id = l.order_id "
    "WHERE o.status <> 'cancelled' GROUP BY l.product_id) s "
    "JOIN products p ON p.id = s.product_id JOIN categories c ON c.id = p.category_id "
    "GROUP BY c.id, c.name ORDER BY units_sold DESC, c.id LIMIT $3) t)"
)
DASHBOARD = DriverQuery(_DASHBOARD_SQL)
DASHBOARD_WITH_TOP = DriverQuery(f"{_DASHBOARD_SQL}, {_TOP_SQL}")

# An order and its lines written in one statement (one round trip instead of two, and no
# executemany), the order's row answered as the scoped insert returns it. The lines get ids in
# the given order (ORDER BY the array's ordinality), the order they are read back in.
# $1: the organization (NULL: personal), $2 the placer, $3 the API key, $4 the total, $5 the
# creation time (Python's clock, as the ORM's default); $6-$9 the lines' columns as arrays.
PLACE = DriverQuery(
    "WITH placed AS (INSERT INTO orders (organization_id, user_id, api_key_id, status, "
    "total_minor, created_at) VALUES ($1, $2, $3, 'placed', $4, $5) "
    "RETURNING id, organization_id, user_id, status, total_minor, created_at, cancelled_at), "
    "lines AS (INSERT INTO order_lines (order_id, product_id, product_name, quantity, "
    "unit_price_minor) SELECT placed.id, l.product_id, l.product_name, l.quantity, "
    "l.unit_price_minor FROM placed, unnest($6::bigint[], $7::text[], $8::int[], $9::bigint[]) "
    "WITH ORDINALITY AS l(product_id, product_name, quantity, unit_price_minor, n) "
    "ORDER BY l.n) "
    "SELECT id, organization_id, user_id, status, total_minor, created_at, cancelled_at "
    "FROM placed"
)
