"""`apiforge services`: makes sure PostgreSQL and Redis answer for a service's tests (the running
servers, else the machine's cluster, else throwaway ones) and writes their URLs to
`.services/env` in the current folder; `stop` ends the throwaway ones."""

from typing import Annotated, Literal

import typer


def services(
    action: Annotated[
        Literal["start", "stop"], typer.Argument(help="start (the default) or stop.")
    ] = "start",
) -> None:
    """Make sure PostgreSQL and Redis answer for the tests (writes .services/env)."""
    from apiforge.kit.testing import run_services_script

    code = run_services_script(action)
    if code:
        raise typer.Exit(code)
