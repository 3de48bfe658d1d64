"""A kit app whose start-up hook fails: `apiforge serve --app tests.cli.broken_app:create_app`
must exit instead of serving 500s."""

from fastapi import FastAPI

from apiforge.kit import AppState, Settings
from apiforge.kit import create_app as create_kit_app


async def _fail(state: AppState) -> None:
    raise RuntimeError("the warehouse feed is not configured")


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_kit_app(settings or Settings(), on_startup=[_fail])
