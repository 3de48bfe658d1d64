"""Declarative base with one constraint naming convention (so migrations diff cleanly) and the
column types every table shares. Not for: any table (those live in the service's domains)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, Table, func
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# bigint on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")
BigIntId.__doc__ = """The column type of ids and foreign keys to them: bigint on PostgreSQL,
INTEGER on SQLite (the only type it auto-increments): `mapped_column(BigIntId,
ForeignKey("users.id"))`."""


class UTCDateTime(TypeDecorator[datetime]):
    """timestamptz on PostgreSQL; on SQLite (which keeps no zone) values are stored as UTC and
    come back aware, so both databases hand the code the same thing."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            value = datetime.fromisoformat(str(value))
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (what `UTCDateTime` columns take)."""
    return datetime.now(UTC)


IdPk = Annotated[int, mapped_column(BigIntId, primary_key=True, autoincrement=True)]
IdPk.__doc__ = """A bigint identity primary key: `id: Mapped[IdPk]`."""
CreatedAt = Annotated[
    datetime,
    mapped_column(UTCDateTime(), nullable=False, default=utcnow, server_default=func.now()),
]
CreatedAt.__doc__ = """A creation time set on insert (by Python, or the database's clock for rows
inserted in SQL): `created_at: Mapped[CreatedAt]`."""


class Base(DeclarativeBase):
    """The declarative base of a service's models: one `MetaData` with a constraint naming
    convention (`pk_users`, `fk_orders_user_id_users`, ...), so Alembic's autogenerate
    names constraints the same way on every database. `Base.metadata` is what the
    service's migrations compare against."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """The model's Core `Table`, typed as such, for lean Core queries on hot paths."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table
