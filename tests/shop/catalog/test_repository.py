"""Catalog SQL details the HTTP tests cannot see: LIKE escaping and the trigram index plan."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.shop.catalog.repository import contains_pattern, search_statement


@pytest.mark.parametrize(
    ("q", "pattern"),
    [
        ("laptop", "%laptop%"),
        ("100%", "%100\\%%"),
        ("a_b", "%a\\_b%"),
        ("back\\slash", "%back\\\\slash%"),
        ("\\%", "%\\\\\\%%"),
    ],
)
def test_contains_pattern_escapes_wildcards(q: str, pattern: str) -> None:
    assert contains_pattern(q) == pattern


async def test_search_can_use_the_trigram_indexes(session: AsyncSession, is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("pg_trgm exists on PostgreSQL only")
    # A nearly empty test table makes any plan cheap; ruling out the plain scans (sequential,
    # or walking the primary key in id order) shows whether the ILIKE ... ESCAPE form can be
    # answered from the GIN indexes at all.
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    await session.execute(text("SET LOCAL enable_indexscan = off"))
    bind = session.get_bind()
    statement = search_statement("laptop", 20, None).compile(
        dialect=bind.dialect, compile_kwargs={"literal_binds": True}
    )

    plan = "\n".join(row[0] for row in await session.execute(text(f"EXPLAIN {statement}")))

    assert "ix_products_name_trgm" in plan
    assert "ix_products_description_trgm" in plan
