"""Tenant-owned tables and the statements that may touch them. A table declared
`tenant_owned("organization_id")` is reached only by statements built with `scoped()` (the
tenant's filter added, or the tenant's id set on an insert) or explicitly marked
`cross_tenant(..., reason=...)`; the kit's sessions refuse anything else with
`UnscopedTenantQueryError` before it runs, so a query cannot forget its tenant. On PostgreSQL,
`bind_tenant` also sets `apiforge.tenant_id` for the transaction, which Row-Level Security
policies (`row_level_security_sql`) enforce as defence in depth. Not for: deciding who may act
for a tenant (kit.tenancy)."""

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Column, ColumnElement, Delete, Insert, Select, Table, Update, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.util import find_tables

TENANT_PARAM = "tenant_id"
# Table.info key naming the tenant column; statement execution options of scoped and
# deliberately cross-tenant statements; session.info keys.
_TENANT_COLUMN = "apiforge_tenant_column"
_SCOPED = "apiforge_tenant_scoped"
_CROSS_TENANT = "apiforge_cross_tenant"
_BOUND = "apiforge_tenant"
RLS_OPTION = "apiforge_rls"
AUTOCOMMIT_OPTION = "apiforge_read_autocommit"
RLS_SETTING = "apiforge.tenant_id"

_Statement = TypeVar("_Statement", bound=Select[Any] | Update | Delete | Insert)


class UnscopedTenantQueryError(RuntimeError):
    """A statement touched a tenant-owned table without its tenant's filter (`scoped`) or an
    explicit `cross_tenant` reason. A programming error: it is a 500 and never runs."""


def tenant_owned(column: str) -> dict[str, Any]:
    """`__table_args__` entry marking the table as owned by the tenant named in `column`:
    `__table_args__ = (Index(...), tenant_owned("organization_id"))`."""
    return {"info": {_TENANT_COLUMN: column}}


def tenant_column(table: Table) -> "Column[Any] | None":
    name = table.info.get(_TENANT_COLUMN)
    return None if name is None else table.c[name]


@dataclass(frozen=True, slots=True)
class TenantScope:
    """Whose rows a statement may touch: one tenant's (`tenant_id`), or those of no tenant
    (`tenant_id=None`: a user's own rows, which the service filters further by owner)."""

    tenant_id: int | None

    @property
    def personal(self) -> bool:
        return self.tenant_id is None

    @property
    def params(self) -> dict[str, Any]:
        """The bind parameters a `scoped()` statement needs: pass them to `execute`."""
        return {TENANT_PARAM: self.tenant_id}


def scoped(statement: _Statement, table: Table, *, personal: bool = False) -> _Statement:
    """`statement` confined to one tenant of `table`: a filter on its tenant column (or, for
    an insert, the column's value) bound to the `tenant_id` parameter (`scope.params`);
    with `personal=True`, confined to rows of no tenant. Build once, at import, and execute
    with the scope's params."""
    column = tenant_column(table)
    if column is None:
        raise ValueError(f"{table.name} is not tenant-owned")
    marked = statement.execution_options(**{_SCOPED: "personal" if personal else "tenant"})
    if isinstance(marked, Insert):
        value: Any = None if personal else bindparam(TENANT_PARAM)
        return cast(_Statement, marked.values({column.name: value}))
    condition: ColumnElement[bool] = (
        column.is_(None) if personal else column == bindparam(TENANT_PARAM)
    )
    return cast(_Statement, marked.where(condition))


def cross_tenant(statement: _Statement, *, reason: str) -> _Statement:
    """Mark a statement that reads or writes across tenants on purpose (a platform admin's
    listing, resolving an object's tenant before checking access); `reason` says why, for
    the reader of the code and the guard's error."""
    if not reason.strip():
        raise ValueError("a cross-tenant statement needs a reason")
    return cast(_Statement, statement.execution_options(**{_CROSS_TENANT: reason}))


# Which tenant tables a statement object touches, remembered for prebuilt statements (the
# statement is kept as the value, so its id cannot be reused while the entry lives).
_SEEN: OrderedDict[int, tuple[Executable, bool]] = OrderedDict()
_SEEN_MAX = 2048


def _touches_tenant_table(statement: Executable) -> bool:
    key = id(statement)
    seen = _SEEN.get(key)
    if seen is not None and seen[0] is statement:
        return seen[1]
    touches = any(
        isinstance(table, Table) and _TENANT_COLUMN in table.info
        for table in find_tables(statement, include_crud=True, include_joins=True)  # type: ignore[arg-type]  # any clause element
    )
    _SEEN[key] = (statement, touches)
    if len(_SEEN) > _SEEN_MAX:
        _SEEN.popitem(last=False)
    return touches


def guard_statement(state: ORMExecuteState) -> None:
    """The kit sessions' `do_orm_execute` hook: ORM selects of tenant-owned entities in a
    session bound to a tenant get its filter (`with_loader_criteria`); anything else that
    touches a tenant table unscoped and unmarked is refused."""
    options = state.execution_options
    bound: TenantScope | None = state.session.info.get(_BOUND)
    if _CROSS_TENANT in options:
        return
    kind = options.get(_SCOPED)
    if kind is not None:
        _check_params(kind, state.parameters, bound)
        return
    statement = state.statement
    if not _touches_tenant_table(statement):
        return
    if bound is not None and state.is_select and state.is_orm_statement:
        state.statement = statement.options(*_loader_criteria(statement, bound))
        return
    raise UnscopedTenantQueryError(
        "a statement touches a tenant-owned table without its tenant: build it with "
        "scoped(...) or mark it cross_tenant(..., reason=...)"
    )


def _check_params(kind: str, parameters: Any, bound: TenantScope | None) -> None:
    params = parameters if isinstance(parameters, dict) else {}
    if kind == "personal":
        return
    tenant_id = params.get(TENANT_PARAM)
    if tenant_id is None:
        raise UnscopedTenantQueryError("a scoped statement ran without its tenant_id")
    if bound is not None and bound.tenant_id is not None and bound.tenant_id != tenant_id:
        raise UnscopedTenantQueryError(
            f"a statement for tenant {tenant_id} ran in a session bound to another tenant"
        )


def _loader_criteria(statement: Executable, scope: TenantScope) -> Iterable[Any]:
    for description in getattr(statement, "column_descriptions", ()):
        entity = description.get("entity")
        table = getattr(entity, "__table__", None)
        column = tenant_column(table) if isinstance(table, Table) else None
        if entity is None or column is None:
            continue
        attribute = getattr(entity, column.name)
        condition = attribute.is_(None) if scope.personal else attribute == scope.tenant_id
        yield with_loader_criteria(entity, condition)


async def bind_tenant(session: AsyncSession, scope: TenantScope) -> None:
    """Bind the session's unit of work to `scope`: scoped statements must then carry this
    tenant, ORM reads of tenant-owned entities are filtered to it, and (with
    `db.row_level_security` on PostgreSQL) the transaction sets `apiforge.tenant_id` for the
    policies. Call it before the session's first statement: a read session, which has no
    transaction on PostgreSQL, then gets one, since the setting lasts only for a
    transaction."""
    session.info[_BOUND] = scope
    if scope.tenant_id is None or not session.info.get(RLS_OPTION):
        return
    if session.info.get(AUTOCOMMIT_OPTION):
        if session.in_transaction():
            raise RuntimeError("bind_tenant must come before the read session's first statement")
        await session.connection(execution_options={"isolation_level": "READ COMMITTED"})
    await session.execute(
        text("SELECT set_config(:name, :value, true)"),
        {"name": RLS_SETTING, "value": str(scope.tenant_id)},
    )


def bound_scope(session: AsyncSession) -> TenantScope | None:
    """The scope `bind_tenant` bound the session to, if any."""
    scope: TenantScope | None = session.info.get(_BOUND)
    return scope


def row_level_security_sql(table: str, column: str) -> list[str]:
    """The PostgreSQL statements (for a migration) that confine `table` to the tenant bound
    by `bind_tenant`: rows of another tenant are invisible and cannot be written. A
    transaction bound to no tenant (platform work: admin listings, jobs, migrations) sees
    every row. FORCE applies the policy to the table's owner too; superusers bypass it."""
    bound = f"nullif(current_setting('{RLS_SETTING}', true), '')"
    condition = f"{bound} IS NULL OR {column} = {bound}::bigint"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_tenant_isolation ON {table} "
        f"USING ({condition}) WITH CHECK ({condition})",
    ]
