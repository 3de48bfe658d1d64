"""Finds the service a command acts on: `--app module:factory` (or `APIFORGE_APP`), imported
from the current folder like Uvicorn does, called to build the app, whose `app_config` then
gives the settings and the migrations. Every way this can fail is one readable line.

The kit (FastAPI, SQLAlchemy, Alembic: two seconds of imports) is imported only when a
command runs, so `apiforge --help` and `--version` answer at once."""

import importlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from fastapi import FastAPI
    from pydantic import ValidationError

    from apiforge.kit import AppConfig, Settings

S = TypeVar("S", bound="Settings")
DEFAULT_APP = "apiforge.shop.app:create_shop_app"
CONFIG_ERROR_EXIT = 2

AppOption = Annotated[
    str,
    typer.Option(
        "--app",
        envvar="APIFORGE_APP",
        help="The service's app factory, module:function, imported from the current folder.",
    ),
]


class ServiceLoadError(Exception):
    """The service could not be loaded; the message is the one line to print."""


def describe(exc: "ValidationError") -> str:
    """One line naming each bad setting, without echoing its value (it may be a secret)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        field = ".".join(str(part) for part in error["loc"])
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)


def import_factory(target: str) -> Callable[[], object]:
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ServiceLoadError(
            f"--app {target!r} is not module:function (e.g. notes.app:create_app)"
        )
    # As Uvicorn's own CLI does: the service's package in the current folder is importable
    # (and stays so in the workers, which inherit sys.path).
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module_name.startswith(exc.name):
            raise  # the service itself imports something missing: its traceback helps
        raise ServiceLoadError(
            f"cannot import {module_name!r} (--app {target}) from {os.getcwd()} or the "
            "installed packages"
        ) from None
    factory: object = getattr(module, attribute, None)
    if not callable(factory):
        raise ServiceLoadError(f"{module_name!r} has no app factory {attribute!r} (--app {target})")
    return factory


def load_app(target: str) -> "FastAPI":
    """Builds the service's app (not started): bad settings, a missing extra and an app not
    made by `create_app` are `ServiceLoadError`s."""
    from fastapi import FastAPI
    from pydantic import ValidationError

    from apiforge.kit import StartupError, app_config

    factory = import_factory(target)
    try:
        app = factory()
    except ValidationError as exc:
        raise ServiceLoadError(f"invalid settings: {describe(exc)}") from None
    except StartupError as exc:
        raise ServiceLoadError(str(exc)) from None
    if not isinstance(app, FastAPI):
        raise ServiceLoadError(f"{target} returned {type(app).__name__}, not a FastAPI app")
    try:
        app_config(app)
    except TypeError:
        raise ServiceLoadError(
            f"{target} did not build its app with apiforge.kit.create_app"
        ) from None
    return app


def load_config(target: str) -> "AppConfig":
    """The service's `AppConfig`, or one line on stderr and exit 2."""
    from apiforge.kit import app_config

    try:
        return app_config(load_app(target))
    except ServiceLoadError as exc:
        fail(str(exc))


def fail(message: str, code: int = CONFIG_ERROR_EXIT) -> NoReturn:
    typer.echo(f"apiforge: {message}", err=True)
    raise typer.Exit(code)


def load_settings(settings_class: type[S]) -> S:
    """`settings_class()` from the environment, or one line on stderr and exit 2."""
    from pydantic import ValidationError

    try:
        return settings_class()
    except ValidationError as exc:
        fail(f"invalid settings: {describe(exc)}")
