"""sealed webhook secrets: webhook_endpoints.secret widened to hold a sealed value

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08

Secrets stored in the clear before this revision stay readable (the sealer opens a value
without its prefix as is); `apiforge webhooks reseal` seals them. The migration does not: it
runs without the service's keys.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch: SQLite cannot alter a column in place (the table is copied).
    with op.batch_alter_table("webhook_endpoints") as table:
        table.alter_column(
            "secret", existing_type=sa.String(length=100), type_=sa.String(length=255)
        )


def downgrade() -> None:
    # Sealed values do not fit back: only a database whose secrets were never sealed goes down.
    with op.batch_alter_table("webhook_endpoints") as table:
        table.alter_column(
            "secret", existing_type=sa.String(length=255), type_=sa.String(length=100)
        )
