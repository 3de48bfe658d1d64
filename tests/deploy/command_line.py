"""Checks an `apiforge ...` argument list the deploy files run against the real CLI, without
running it: each subcommand exists and every option of the last one parses."""

import typer.main

from apiforge.cli import app


class UnknownCommandError(Exception):
    pass


def parse_apiforge_args(args: list[str]) -> list[str]:
    """The command path (e.g. ["db", "upgrade"]) the arguments select. Raises
    `UnknownCommandError`, or the CLI's usage error for an option it does not take."""
    command = typer.main.get_command(app)
    rest = list(args)
    path: list[str] = []
    # Typer vendors its own click, so groups are told apart by their `commands`.
    while (subcommands := getattr(command, "commands", None)) is not None:
        if not rest or rest[0] not in subcommands:
            raise UnknownCommandError(" ".join([*path, *rest[:1]]) or "(none)")
        path.append(rest.pop(0))
        command = subcommands[path[-1]]
    with command.make_context(" ".join(path), rest):
        pass
    return path
