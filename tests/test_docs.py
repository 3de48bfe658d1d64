"""The guide in docs/ tells the truth: every public name of the kit is in the built reference
with its own docstring, every import in a code example resolves to a name that exists (the
kit's from its `__all__`), every fixture named is the plugin's, every `apiforge ...` command
shown exists with the options used (and docs/cli.md shows every command), and the by-hand
service of "Build your own service" migrates and answers as written. Cross-references and
links are the strict build's job (`make docs`)."""

import ast
import html
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import typer
from typer.core import TyperGroup, TyperOption

import apiforge.kit
import apiforge.kit.testing
from apiforge.cli import app as cli_app
from apiforge.kit.testing import plugin

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
# Packages the guide's examples define themselves.
EXAMPLE_PACKAGES = ("notes", "hello")
REFERENCE = {apiforge.kit: "reference/kit", apiforge.kit.testing: "reference/testing"}
BIN = Path(sys.executable).parent


def _site_dir() -> Path:
    found: list[str] = re.findall(r"^site_dir: (\S+)$", (ROOT / "mkdocs.yml").read_text(), re.M)
    return ROOT / found[0]


def _newest_input() -> float:
    inputs = [ROOT / "mkdocs.yml", *DOCS.rglob("*"), *(ROOT / "src/apiforge/kit").rglob("*.py")]
    return max(path.stat().st_mtime for path in inputs if path.is_file())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built guide: `make docs`'s when it is newer than every input, else built here."""
    built = _site_dir()
    marker = built / "reference/kit/index.html"
    if marker.exists() and marker.stat().st_mtime >= _newest_input():
        return built
    target = tmp_path_factory.mktemp("site")
    subprocess.run(  # noqa: S603  # mkdocs of this venv
        [BIN / "mkdocs", "build", "--quiet", "--site-dir", str(target)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=True,
    )
    return target


def _words(text: str) -> str:
    """Letters and digits only: Markdown's code spans and emphasis do not count."""
    return " ".join(re.findall(r"[0-9A-Za-z]+", text))


def _sections(page: str) -> dict[str, str]:
    """Each mkdocstrings heading's id -> the words up to the next heading."""
    parts = re.split(r'<h[1-6] id="([^"]+)" class="doc doc-heading"', page)
    return {
        anchor: _words(html.unescape(re.sub(r"<[^>]+>", "", chunk)))
        for anchor, chunk in zip(parts[1::2], parts[2::2], strict=True)
    }


def _first_line(obj: object) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return _words(doc.splitlines()[0] if doc else "")


@pytest.mark.parametrize("module", list(REFERENCE), ids=lambda m: m.__name__)
def test_every_public_name_is_in_the_reference_with_its_docstring(
    site: Path, module: ModuleType
) -> None:
    sections = _sections((site / REFERENCE[module] / "index.html").read_text())
    missing, undocumented = [], []
    for name in module.__all__:
        section = sections.get(f"{module.__name__}.{name}")
        if section is None:
            missing.append(name)
        elif _first_line(getattr(module, name)) not in section:
            undocumented.append(name)
    assert missing == [], f"not in {REFERENCE[module]}: {missing}"
    assert undocumented == [], f"rendered without their docstring: {undocumented}"


def _code(page: Path) -> Iterator[tuple[str, str]]:
    """(language, text) of each fenced block and inline code span of a page."""
    text = page.read_text()
    yield from re.findall(r"^```(\w*)[^\n]*\n(.*?)^```", text, re.S | re.M)
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    for span in re.findall(r"`([^`\n]+)`", prose):
        yield "", span


def _imports(source: str) -> Iterator[tuple[str, str]]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield node.module, alias.name


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_the_examples_import_names_that_exist(page: Path) -> None:
    wrong = []
    for language, body in _code(page):
        if language != "python":
            continue
        for module, name in _imports(body):  # a block that does not parse fails here
            if module.split(".")[0] in EXAMPLE_PACKAGES:
                continue
            if module.startswith("apiforge") and module not in (
                "apiforge.kit",
                "apiforge.kit.testing",
            ):
                wrong.append(f"{module} (a service imports apiforge.kit only)")
            elif module.startswith("apiforge"):
                if name not in importlib.import_module(module).__all__:
                    wrong.append(f"{module}.{name}")
            elif not hasattr(importlib.import_module(module), name):
                wrong.append(f"{module}.{name}")
    assert wrong == []


def test_the_fixtures_named_are_the_plugins() -> None:
    text = (DOCS / "testing.md").read_text()
    table = text[text.index("| Fixture |") : text.index("\n\n", text.index("| Fixture |"))]
    named = re.findall(r"`(\w+)`", "".join(row.split("|")[1] for row in table.splitlines()[2:]))
    fixtures = {
        name
        for name, value in vars(plugin).items()
        if isinstance(value, type(plugin.app))  # pytest's fixture type, not public
    }
    assert len(named) > 10
    assert set(named) - fixtures == set()


def _cli() -> TyperGroup:
    root = typer.main.get_command(cli_app)
    assert isinstance(root, TyperGroup)
    return root


def _options(command: object) -> set[str]:
    names = {"--help"}
    for param in getattr(command, "params", ()):
        if isinstance(param, TyperOption):
            names.update([*param.opts, *param.secondary_opts])
    return names


def _commands_shown(page: Path) -> Iterator[list[str]]:
    """The words after each `apiforge` that starts a command in the page's code."""
    for _, code in _code(page):
        for match in re.finditer(r"(?<![\w.-])apiforge[ \t]+([^\n]*)", code):
            words = []
            for word in match.group(1).split():
                if word in ("&&", "||", "|", ";") or word.startswith("#"):
                    break
                words.append(word)
            yield words


def _problems(words: list[str]) -> list[str]:
    command: object = _cli()
    path = "apiforge"
    for word in words:
        if word.startswith("-"):
            if word.split("=")[0] not in _options(command):
                return [f"{path}: no option {word}"]
        elif isinstance(command, TyperGroup):
            if word not in command.commands:
                return [f"{path}: no command {word!r}"]
            command, path = command.commands[word], f"{path} {word}"
    return []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_command_shown_exists(page: Path) -> None:
    problems = [problem for words in _commands_shown(page) for problem in _problems(words)]
    assert problems == []


def _leaves(group: TyperGroup, prefix: str = "") -> Iterator[str]:
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            yield from _leaves(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}"


def test_the_cli_page_shows_every_command() -> None:
    shown = {" ".join(words) for words in _commands_shown(DOCS / "cli.md")}
    undocumented = [
        leaf
        for leaf in _leaves(_cli())
        if not any(f"{line} ".startswith(f"{leaf} ") for line in shown)
    ]
    assert undocumented == []


def _by_hand() -> tuple[dict[str, str], list[str]]:
    """The by-hand service's files (title -> code) and its commands, as the page shows them."""
    text = (DOCS / "build-a-service.md").read_text()
    section = text[text.index("## By hand") :]
    files = dict(re.findall(r'^```python title="([^"]+)"\n(.*?)^```', section, re.S | re.M))
    (commands,) = re.findall(r"^```bash\n(.*?)^```", section, re.S | re.M)
    lines = [line.split("  #")[0].strip() for line in commands.strip().splitlines()]
    return files, lines


# Runs the page's `apiforge db ...` lines through the CLI, then asks the migrated service what
# the page says it answers; one process, so the kit is imported once. (Serving it as written
# is what tests/test_readme.py does for the README's twin of this service.)
BY_HAND = """
import asyncio, json, shlex, sys
from typer.testing import CliRunner
from apiforge.cli import app
from apiforge.kit.testing import bearer_headers, running_app

for line in json.loads(sys.argv[1]):
    result = CliRunner().invoke(app, shlex.split(line)[1:])
    if result.exit_code != 0:
        sys.exit(f"{line}: exit {result.exit_code}: {result.output} {result.exception!r}")

from notes.app import create_notes_app

async def main():
    app = create_notes_app()
    async with running_app(app) as client:
        ready = await client.get("/health/ready")
        anonymous = await client.post("/api/notes", json={"body": "hi"})
        user, admin = bearer_headers(app, 7), bearer_headers(app, 1, role="admin")
        created = await client.post("/api/notes", json={"body": " hi "}, headers=user)
        note = f"/api/notes/{created.json()['id']}"
        read = await client.get(note)
        refused = await client.delete(note, headers=user)
        deleted = await client.delete(note, headers=admin)
        answers = [ready, anonymous, created, read, refused, deleted, await client.get(note)]
    print(json.dumps([[a.status_code, a.json() if a.content else None] for a in answers]))

asyncio.run(main())
"""


def test_the_service_by_hand_migrates_and_answers(tmp_path: Path) -> None:
    files, lines = _by_hand()
    for name, code in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(code)
    (tmp_path / "notes/__init__.py").write_text("")
    exports = [line for line in lines if line.startswith("export ")]
    commands = [line for line in lines if line.startswith("apiforge ")]
    assert len(exports) + len(commands) == len(lines)
    assert [c.split()[:3] for c in commands[:3]] == [
        ["apiforge", "db", "init"],
        ["apiforge", "db", "revision"],
        ["apiforge", "db", "upgrade"],
    ]
    assert commands[3].startswith("apiforge serve --app ")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APIFORGE_", "NOTES_"))}
    env.update(line.removeprefix("export ").partition("=")[::2] for line in exports)
    env["NOTES_ACCESS_LOG"] = "false"
    done = subprocess.run(  # noqa: S603  # this venv's python on the page's own code
        [sys.executable, "-c", BY_HAND, json.dumps(commands[:3])],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ready, anonymous, created, read, refused, deleted, gone = json.loads(done.stdout)
    assert ready[0] == 200, ready  # 503 while migrations are pending
    assert (anonymous[0], created[0]) == (401, 201)
    assert read == [200, {"id": created[1]["id"], "owner": "7", "body": "hi"}]
    assert (refused[0], refused[1]["code"]) == (403, "auth.permission_denied")
    assert deleted == [204, None]
    assert (gone[0], gone[1]["code"]) == (404, "notes.not_found")
