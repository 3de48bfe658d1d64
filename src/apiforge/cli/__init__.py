"""`apiforge`: the process entry points (serve, db, check, new, bench) of a service built on
apiforge.kit, the shop unless `--app` names another. Thin: each command loads the service
through its app factory, hands it to the kit, and turns a configuration error into one line
and exit 2."""

from typing import Annotated

import typer

from apiforge import __version__
from apiforge.cli.bench import bench
from apiforge.cli.check import check
from apiforge.cli.db import db_app
from apiforge.cli.events import consume_app, outbox_app
from apiforge.cli.new import new
from apiforge.cli.serve import serve
from apiforge.cli.services import services

app = typer.Typer(
    name="apiforge",
    help="apiforge: serve, migrate and check a service built on apiforge.kit (the shop unless "
    "--app names another), start a new one, and benchmark it.",
    no_args_is_help=True,
    add_completion=False,
    # Plain Click help: readable when piped (Rich boxes cut long option names at 80 columns).
    rich_markup_mode=None,
    # Rich tracebacks print local variables, settings and secrets among them.
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"apiforge {__version__}")
        raise typer.Exit


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """apiforge: serve, migrate and check a service built on apiforge.kit (the shop unless
    --app names another), start a new one, and benchmark it."""


app.command()(serve)
app.add_typer(db_app, name="db")
app.add_typer(outbox_app, name="outbox")
app.add_typer(consume_app, name="consume")
app.command()(check)
app.command()(new)
app.command()(bench)
app.command()(services)


def main() -> None:
    app()
