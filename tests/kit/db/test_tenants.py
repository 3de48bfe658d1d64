"""Tenant scoping of statements: the kit's sessions refuse a statement on a tenant-owned table
that is neither `scoped` nor marked `cross_tenant` (Core and ORM alike), scoped statements need
their tenant, ORM reads in a bound session are filtered, and on PostgreSQL Row-Level Security
confines a transaction bound to a tenant even when a query forgets its filter."""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from apiforge.kit import (
    Database,
    DatabaseSettings,
    TenantScope,
    UnscopedTenantQueryError,
    bind_tenant,
    cross_tenant,
    row_level_security_sql,
    scoped,
    tenant_owned,
)
from apiforge.kit.testing import fresh_database, restricted_role, worker_index


class _Base(DeclarativeBase):
    metadata = MetaData()


class Note(_Base):
    """An ORM entity on a tenant-owned table, for the `with_loader_criteria` path."""

    __tablename__ = "tenant_notes"
    __table_args__ = (tenant_owned("org_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(String(50))


NOTES: Table = Note.__table__  # type: ignore[assignment]  # a Table, as declared above
PLAIN = Table("tenant_plain", _Base.metadata, Column("id", Integer, primary_key=True))
ORG_A, ORG_B = TenantScope(1), TenantScope(2)
MINE = TenantScope(None)

_SELECT_NOTES = scoped(select(NOTES.c.body).order_by(NOTES.c.id), NOTES)
_SELECT_PERSONAL = scoped(select(NOTES.c.body).order_by(NOTES.c.id), NOTES, personal=True)
_INSERT_NOTE = scoped(insert(NOTES), NOTES)
# Deliberately unfiltered, as a query that forgot its tenant would be (marked, so the kit's
# guard lets it reach the database, where only the RLS policy stands in its way).
_EVERY_NOTE = cross_tenant(
    select(NOTES.c.body).order_by(NOTES.c.id), reason="a test of the RLS backstop"
)


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    admin = request.getfixturevalue("postgres_admin") if request.param == "postgres" else None
    async with fresh_database(
        request.param, directory=tmp_path, name=f"kit_tenants_{os.getpid()}", postgres_admin=admin
    ) as url:
        db = Database.from_url(url, DatabaseSettings(pool_size=2))
        async with db.engine.begin() as conn:
            await conn.run_sync(_Base.metadata.create_all)
            await conn.execute(
                insert(NOTES),
                [
                    {"id": 1, "org_id": 1, "body": "a1"},
                    {"id": 2, "org_id": 2, "body": "b1"},
                    {"id": 3, "org_id": None, "body": "personal"},
                ],
            )
        try:
            yield db
        finally:
            await db.dispose()


async def _bodies(session: AsyncSession, statement: object, **params: object) -> list[str]:
    return list((await session.execute(statement, params)).scalars())  # type: ignore[call-overload]  # any statement


async def test_scoped_statements_see_their_tenant_only(database: Database) -> None:
    async with database.read_session() as session:
        assert await _bodies(session, _SELECT_NOTES, **ORG_A.params) == ["a1"]
        assert await _bodies(session, _SELECT_NOTES, **ORG_B.params) == ["b1"]
        assert await _bodies(session, _SELECT_PERSONAL, **MINE.params) == ["personal"]


async def test_a_scoped_insert_sets_the_tenant(database: Database) -> None:
    async with database.transaction() as session:
        await session.execute(_INSERT_NOTE, {**ORG_B.params, "id": 9, "body": "b2"})
    async with database.read_session() as session:
        assert await _bodies(session, _SELECT_NOTES, **ORG_B.params) == ["b1", "b2"]


@pytest.mark.parametrize(
    "statement",
    [
        select(NOTES.c.body),
        select(PLAIN.c.id).join(NOTES, NOTES.c.id == PLAIN.c.id),
        update(NOTES).values(body="x"),
        insert(NOTES).values(id=10, org_id=1, body="x"),
        select(Note),
    ],
    ids=["select", "join", "update", "insert", "orm-select"],
)
async def test_an_unscoped_statement_on_a_tenant_table_never_runs(
    database: Database, statement: object
) -> None:
    async with database.write_session() as session:
        with pytest.raises(UnscopedTenantQueryError):
            await session.execute(statement)  # type: ignore[call-overload]  # any statement


async def test_statements_on_other_tables_pass(database: Database) -> None:
    async with database.read_session() as session:
        assert (await session.execute(select(PLAIN.c.id))).all() == []


async def test_a_scoped_statement_needs_its_tenant(database: Database) -> None:
    async with database.read_session() as session:
        with pytest.raises(UnscopedTenantQueryError, match="without its tenant_id"):
            await _bodies(session, _SELECT_NOTES, **MINE.params)


async def test_a_bound_session_refuses_another_tenants_statement(database: Database) -> None:
    async with database.write_session() as session:
        await bind_tenant(session, ORG_A)
        assert await _bodies(session, _SELECT_NOTES, **ORG_A.params) == ["a1"]
        with pytest.raises(UnscopedTenantQueryError, match="bound to another tenant"):
            await _bodies(session, _SELECT_NOTES, **ORG_B.params)


async def test_orm_reads_in_a_bound_session_are_filtered(database: Database) -> None:
    async with database.read_session() as session:
        await bind_tenant(session, ORG_B)
        notes = (await session.execute(select(Note).order_by(Note.id))).scalars().all()
        assert [note.body for note in notes] == ["b1"]
    async with database.read_session() as session:
        await bind_tenant(session, MINE)
        notes = (await session.execute(select(Note))).scalars().all()
        assert [note.body for note in notes] == ["personal"]


def test_scoping_a_table_that_is_not_tenant_owned_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="not tenant-owned"):
        scoped(select(PLAIN.c.id), PLAIN)
    with pytest.raises(ValueError, match="needs a reason"):
        cross_tenant(select(PLAIN.c.id), reason=" ")


# ------------------------------------------------------------------ PostgreSQL RLS backstop
@pytest.fixture
async def rls_url(postgres_admin: str) -> AsyncIterator[str]:
    """A database with the notes table under the kit's policy, reached as a role that is not
    a superuser (superusers bypass every policy)."""
    name = f"kit_tenants_rls_{os.getpid()}"
    async with fresh_database(
        "postgres", directory=Path(), name=name, postgres_admin=postgres_admin
    ) as url:
        db = Database.from_url(url, DatabaseSettings(pool_size=1))
        async with db.engine.begin() as conn:
            await conn.run_sync(_Base.metadata.create_all)
            await conn.execute(
                insert(NOTES),
                [{"id": i, "org_id": 1 + i % 2, "body": f"n{i}"} for i in range(1, 7)],
            )
            for statement in row_level_security_sql("tenant_notes", "org_id"):
                await conn.exec_driver_sql(statement)
        await db.dispose()
        async with restricted_role(postgres_admin, url, f"rls_probe_{worker_index()}") as as_role:
            yield as_role


@pytest.mark.parametrize("session_kind", ["read", "write"])
async def test_rls_confines_a_forgetful_query_to_the_bound_tenant(
    rls_url: str, session_kind: str
) -> None:
    database = Database.from_url(rls_url, DatabaseSettings(pool_size=1, row_level_security=True))
    try:
        factory = database.read_session if session_kind == "read" else database.write_session
        async with factory() as session:
            await bind_tenant(session, ORG_A)  # org A: ids 2, 4, 6 (org_id 1 + i % 2)
            seen = await _bodies(session, _EVERY_NOTE)
        async with factory() as session:
            unbound = await _bodies(session, _EVERY_NOTE)
    finally:
        await database.dispose()
    assert seen == ["n2", "n4", "n6"]  # 0 rows of org B, though the query asked for all
    assert len(unbound) == 6  # platform work, bound to no tenant, sees every row


async def test_rls_refuses_writing_into_another_tenant(rls_url: str) -> None:
    database = Database.from_url(rls_url, DatabaseSettings(pool_size=1, row_level_security=True))
    forged = cross_tenant(insert(NOTES), reason="a test of the policy's WITH CHECK")
    try:
        async with database.write_session() as session:
            await bind_tenant(session, ORG_A)
            with pytest.raises(DBAPIError, match="row-level security"):
                await session.execute(forged, {"id": 50, "org_id": 2, "body": "into B"})
    finally:
        await database.dispose()


async def test_without_the_setting_binding_sets_nothing(rls_url: str) -> None:
    """The control: the same forgetful query, RLS not turned on in the settings."""
    database = Database.from_url(rls_url, DatabaseSettings(pool_size=1))
    try:
        async with database.read_session() as session:
            await bind_tenant(session, ORG_A)
            assert len(await _bodies(session, _EVERY_NOTE)) == 6
    finally:
        await database.dispose()


async def test_a_read_session_binds_before_its_first_statement(rls_url: str) -> None:
    database = Database.from_url(rls_url, DatabaseSettings(pool_size=1, row_level_security=True))
    try:
        async with database.read_session() as session:
            await _bodies(session, _EVERY_NOTE)
            with pytest.raises(RuntimeError, match="before the read session's first statement"):
                await bind_tenant(session, ORG_A)
    finally:
        await database.dispose()
