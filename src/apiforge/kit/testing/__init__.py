"""A pytest plugin with real-service fixtures (PostgreSQL, Redis) and helpers for building a
migrated test database per worker. Loaded with `-p apiforge.kit.testing.plugin`."""
