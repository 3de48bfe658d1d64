"""apiforge.kit.testing: what a service's tests import (besides `apiforge.kit`). The pytest
plugin (`pytest_plugins = ["apiforge.kit.testing.plugin"]`) gives the fixtures: the service's
app on SQLite and PostgreSQL, per-test rollback, an HTTP client (see its docstring); the
names below build what the fixtures do not. Not for: production code."""

from apiforge.kit.testing.clients import AppFactory, asgi_client, bearer_headers, running_app
from apiforge.kit.testing.databases import (
    empty_tables,
    fresh_database,
    migrated_database,
    sessions_inside,
)
from apiforge.kit.testing.queries import QueryCounter, count_queries
from apiforge.kit.testing.services import (
    ServiceMissingError,
    create_postgres_database,
    drop_postgres_database,
    postgres_admin_url,
    redis_base_url,
    require_tcp,
    restricted_role,
    run_services_script,
    worker_index,
)

__all__ = [
    "AppFactory",
    "QueryCounter",
    "ServiceMissingError",
    "asgi_client",
    "bearer_headers",
    "count_queries",
    "create_postgres_database",
    "drop_postgres_database",
    "empty_tables",
    "fresh_database",
    "migrated_database",
    "postgres_admin_url",
    "redis_base_url",
    "require_tcp",
    "restricted_role",
    "run_services_script",
    "running_app",
    "sessions_inside",
    "worker_index",
]
