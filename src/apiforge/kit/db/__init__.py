"""Async SQLAlchemy plumbing: engines, the per-request unit of work, column types, migrations."""
