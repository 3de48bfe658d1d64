"""`apiforge`: the process entry points (serve, db, bench, check). Thin: each command builds
`Settings`, hands it to the shop or the kit, and turns a configuration error into one line and
exit 2."""

import typer

from apiforge.cli.bench import bench
from apiforge.cli.check import check
from apiforge.cli.db import db_app
from apiforge.cli.serve import serve

app = typer.Typer(
    name="apiforge",
    help="apiforge: run the shop API, migrate and seed its database.",
    no_args_is_help=True,
    add_completion=False,
    # Rich tracebacks print local variables, settings and secrets among them.
    pretty_exceptions_enable=False,
)
app.command()(serve)
app.add_typer(db_app, name="db")
app.command()(bench)
app.command()(check)


def main() -> None:
    app()
