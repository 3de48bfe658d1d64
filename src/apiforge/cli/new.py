"""`apiforge new NAME`: writes a service on the kit into ./NAME: its package (app factory,
settings, one domain with the house cast, migrations), tests on `apiforge.kit.testing`, a
Makefile whose `make run` and `make test` work on a fresh machine, and a Dockerfile."""

import importlib.metadata
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from apiforge import __version__
from apiforge.cli.service import fail

TEMPLATE = Path(__file__).with_name("templates") / "service"
SUFFIX = ".tmpl"
PACKAGE_DIR = "_name_"
# Names that would shadow what the service imports (or the kit's own package).
RESERVED = frozenset({"apiforge", "fastapi", "pydantic", "sqlalchemy", "alembic", "test", "tests"})
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_DOTFILES = {"gitignore": ".gitignore", "dockerignore": ".dockerignore"}


def apiforge_requirement(extras: str, source: str | None = None) -> str:
    """The requirement on apiforge a new service gets: `source` when given (a version spec,
    a folder or a URL), else where this apiforge was installed from (a folder, for a
    checkout installed with pip -e), else this version."""
    if source:
        if source.startswith(("file:", "http:", "https:", "git+")):
            return f"apiforge[{extras}] @ {source}"
        if "/" in source or source.startswith("."):
            return f"apiforge[{extras}] @ {Path(source).resolve().as_uri()}"
        return f"apiforge[{extras}]{source}"
    origin = importlib.metadata.distribution("apiforge").read_text("direct_url.json")
    url = json.loads(origin).get("url") if origin else None
    if isinstance(url, str) and url.startswith("file:"):
        return f"apiforge[{extras}] @ {url}"
    return f"apiforge[{extras}]>={__version__}"


def render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def generate(name: str, target: Path, *, source: str | None = None) -> list[Path]:
    """Writes the service `name` into `target` (which must not exist); returns the files."""
    values = {
        "name": name,
        "Name": "".join(part.capitalize() for part in name.split("_")),
        "NAME": name.upper(),
        "apiforge": apiforge_requirement("postgres,redis", source),
        "apiforge_dev": apiforge_requirement("postgres,redis,testing", source),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    written = []
    for template in sorted(p for p in TEMPLATE.rglob("*") if p.is_file()):
        relative = template.relative_to(TEMPLATE).as_posix().replace(PACKAGE_DIR, name)
        relative = relative.removesuffix(SUFFIX)
        relative = "/".join(_DOTFILES.get(part, part) for part in relative.split("/"))
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(template.read_text(), values))
        written.append(path)
    return written


def new(
    name: Annotated[str, typer.Argument(help="The service's name: a Python package name.")],
    directory: Annotated[
        Path | None, typer.Option(help="Where to write it (default: ./NAME).")
    ] = None,
    apiforge: Annotated[
        str | None,
        typer.Option(
            "--apiforge",
            help="Where the service gets apiforge: a version spec (>=0.1), a folder or a URL "
            "(default: where this apiforge is installed from).",
        ),
    ] = None,
) -> None:
    """Start a new service on the kit: ./NAME with `make run` and `make test`."""
    if not _NAME.match(name) or name in RESERVED:
        fail(
            f"{name!r} is not a service name: lowercase letters, digits and underscores, "
            "starting with a letter (and not the name of a package it imports)"
        )
    target = directory or Path(name)
    if target.exists():
        fail(f"{target} exists; choose another name or --directory")
    files = generate(name, target, source=apiforge)
    typer.echo(f"Wrote {len(files)} files into {target}. Next: cd {target} && make test")
