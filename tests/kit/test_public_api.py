"""The kit's curated public API, and the one-way dependency: the kit never imports the shop."""

import ast
from pathlib import Path

import pytest

import apiforge.kit

KIT = Path(apiforge.kit.__file__).parent
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
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    assert [name for name in imported if name.startswith(FORBIDDEN)] == []
