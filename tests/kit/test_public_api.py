"""The kit's curated public API: every name explains itself in `help()`, services (the shop
included) import nothing deeper, and the kit never imports the shop."""

import ast
import pydoc
from pathlib import Path
from typing import Annotated

import pytest

import apiforge.kit
import apiforge.kit.testing

KIT = Path(apiforge.kit.__file__).parent
ROOT = Path(__file__).parents[2]
FORBIDDEN = ("apiforge.shop", "apiforge.cli", "apiforge.bench")


def test_all_names_exist_and_are_unique() -> None:
    names = apiforge.kit.__all__
    assert len(names) == len(set(names))
    assert names == sorted(names)
    missing = [name for name in names if not hasattr(apiforge.kit, name)]
    assert missing == []


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from apiforge.kit import *", namespace)  # noqa: S102  # the star import is the subject
    assert set(namespace) - {"__builtins__"} == set(apiforge.kit.__all__)


@pytest.mark.parametrize("path", sorted(KIT.rglob("*.py")), ids=lambda p: str(p.relative_to(KIT)))
def test_kit_modules_never_import_the_shop(path: Path) -> None:
    """Every import statement, including those inside functions (import-linter checks the
    same contract; this fails closer to the offending line)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    assert [name for name in _imported(tree) if name.startswith(FORBIDDEN)] == []


def _own_doc(value: object) -> str | None:
    """The docstring `help(value)` shows as the value's own: not its type's, nor (for a typing
    alias) its origin's."""
    doc = getattr(value, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return None
    inherited = {
        getattr(type(value), "__doc__", None),
        getattr(getattr(value, "__origin__", None), "__doc__", None),
    }
    if not isinstance(value, type) and doc in inherited:
        return None
    return doc


@pytest.mark.parametrize(
    ("module", "name"),
    [(apiforge.kit, name) for name in apiforge.kit.__all__]
    + [(apiforge.kit.testing, name) for name in apiforge.kit.testing.__all__],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_every_exported_name_explains_itself(module: object, name: str) -> None:
    assert _own_doc(getattr(module, name)) is not None, (
        f"help({name}) shows no docstring of its own"
    )


def test_help_shows_an_alias_own_docstring() -> None:
    """The control: an Annotated alias is documented by setting its __doc__ (help() shows it)."""
    text = pydoc.plain(pydoc.render_doc(apiforge.kit.WriteSession))
    assert "committed before the response is sent" in text
    assert _own_doc(Annotated[int, "undocumented"]) is None


SERVICE_CODE = [
    *sorted((ROOT / "src" / "apiforge" / "shop").rglob("*.py")),
    *sorted((ROOT / "src" / "apiforge" / "cli").rglob("*.py")),
    *sorted((ROOT / "tests" / "shop").rglob("*.py")),
]
PUBLIC = {"apiforge.kit", "apiforge.kit.testing"}


@pytest.mark.parametrize("path", SERVICE_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_services_import_only_the_public_kit(path: Path) -> None:
    """The shop (code and tests) and the CLI reach the kit only through `apiforge.kit` and
    `apiforge.kit.testing` (import-linter checks the source too; this covers the tests)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    deep = [
        name for name in _imported(tree) if name.startswith("apiforge.kit") and name not in PUBLIC
    ]
    assert deep == []


def _imported(tree: ast.AST) -> list[str]:
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    return imported
