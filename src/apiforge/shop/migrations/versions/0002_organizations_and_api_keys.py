"""organizations, memberships, API keys, external identities, revocable tokens, orders for
organizations, and Row-Level Security policies on the tenant-owned tables (PostgreSQL)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from apiforge.kit import UTCDateTime, row_level_security_sql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Tenant-owned tables and their tenant column: the policies confine a transaction bound to a
# tenant (kit bind_tenant, with APIFORGE_DB__ROW_LEVEL_SECURITY=true) to its rows.
TENANT_TABLES = {
    "memberships": "organization_id",
    "api_keys": "organization_id",
    "orders": "organization_id",
}


def _id() -> sa.Column[int]:
    return sa.Column("id", BigIntId, autoincrement=True, nullable=False)


def _created_at() -> sa.Column[object]:
    return sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("token_generation", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "organizations",
        _id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "memberships",
        _id(),
        sa.Column("organization_id", BigIntId, nullable=False),
        sa.Column("user_id", BigIntId, nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        _created_at(),
        sa.CheckConstraint(
            "role IN ('viewer', 'buyer', 'admin', 'owner')", name=op.f("ck_memberships_role_known")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_memberships_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint(
            "organization_id", "user_id", name=op.f("uq_memberships_organization_id")
        ),
    )
    op.create_index(op.f("ix_memberships_user_id"), "memberships", ["user_id"], unique=False)
    op.create_table(
        "api_keys",
        _id(),
        sa.Column("organization_id", BigIntId, nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("display_prefix", sa.String(length=48), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=500), nullable=False),
        sa.Column("created_by", BigIntId, nullable=True),
        _created_at(),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_keys_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_api_keys_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_keys_key_id")),
    )
    op.create_index(
        "ix_api_keys_organization_id_id", "api_keys", ["organization_id", "id"], unique=False
    )
    op.create_table(
        "external_identities",
        _id(),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", BigIntId, nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_external_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_identities")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_external_identities_issuer")),
    )
    op.create_index(
        op.f("ix_external_identities_user_id"), "external_identities", ["user_id"], unique=False
    )
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("organization_id", BigIntId, nullable=True))
        batch_op.add_column(sa.Column("api_key_id", sa.String(length=32), nullable=True))
        batch_op.alter_column("user_id", existing_type=BigIntId, nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_organization_id_organizations"),
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_orders_placed_by_someone"),
            "user_id IS NOT NULL OR api_key_id IS NOT NULL",
        )
        batch_op.create_index(
            "ix_orders_organization_id_id", ["organization_id", "id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        for table, column in TENANT_TABLES.items():
            for statement in row_level_security_sql(table, column):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            op.execute(f"DROP POLICY IF EXISTS {table}_tenant_isolation ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_index("ix_orders_organization_id_id")
        batch_op.drop_constraint(batch_op.f("ck_orders_placed_by_someone"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_orders_organization_id_organizations"), type_="foreignkey"
        )
        batch_op.alter_column("user_id", existing_type=BigIntId, nullable=False)
        batch_op.drop_column("api_key_id")
        batch_op.drop_column("organization_id")
    op.drop_index(op.f("ix_external_identities_user_id"), table_name="external_identities")
    op.drop_table("external_identities")
    op.drop_index("ix_api_keys_organization_id_id", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_index(op.f("ix_memberships_user_id"), table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("organizations")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("token_generation")
