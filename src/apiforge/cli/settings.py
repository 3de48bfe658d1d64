"""Builds `Settings` for a command, or stops it with one readable line (exit code 2): a
missing production secret is an operator's mistake, not a traceback."""

import typer
from pydantic import ValidationError

from apiforge.kit.settings import Settings

CONFIG_ERROR_EXIT = 2


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        typer.echo(f"apiforge: invalid settings: {describe(exc)}", err=True)
        raise typer.Exit(CONFIG_ERROR_EXIT) from None


def describe(exc: ValidationError) -> str:
    """One line naming each bad setting, without echoing its value (it may be a secret)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        field = ".".join(str(part) for part in error["loc"])
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)
