"""Alembic environment and versions for the shop's schema (shipped in the wheel)."""

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent
