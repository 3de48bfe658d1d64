"""`apiforge`: the process entry points (serve, db, worker, scheduler, jobs, check, new,
bench) of a service built on
apiforge.kit, the shop unless `--app` names another. Thin: each command loads the service
through its app factory, hands it to the kit, and turns a configuration error into one line
and exit 2."""

from typing import Annotated

import typer

from apiforge import __version__
from apiforge.cli.bench import bench
from apiforge.cli.check import check
from apiforge.cli.db import db_app
from apiforge.cli.events import consume_app, outbox_app, webhooks_app
from apiforge.cli.new import new
from apiforge.cli.serve import serve
from apiforge.cli.services import services
from apiforge.cli.worker import jobs_app, scheduler, worker

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
app.add_typer(webhooks_app, name="webhooks")
app.command()(check)
app.command()(new)
app.command()(bench)
app.command()(services)
app.command()(worker)
app.command()(scheduler)
app.add_typer(jobs_app, name="jobs")


def main() -> None:
    app()
