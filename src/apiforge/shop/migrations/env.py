"""Alembic environment of the shop: the kit runs it (on the connection it hands over, on an
engine of its own under the `alembic` command, or offline)."""

from apiforge.kit import run_alembic_env
from apiforge.shop.models import metadata

run_alembic_env(metadata)
