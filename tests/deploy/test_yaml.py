"""Every YAML file under deploy/ parses, with no duplicate keys (PyYAML keeps the last of two
silently, so a repeated key would drop configuration unseen)."""

from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type stubs and the lock has none

from tests.deploy.manifests import DEPLOY, YAML_FILES

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _StrictLoader(yaml.SafeLoader):  # type: ignore[misc]  # untyped base class
    pass


def _mapping_without_duplicates(loader: _StrictLoader, node: Any, deep: bool = False) -> Any:
    keys = [key.value for key, _ in node.value if key.tag != _MERGE_TAG]
    duplicates = sorted({str(key) for key in keys if keys.count(key) > 1})
    if duplicates:
        raise yaml.constructor.ConstructorError(
            None, None, f"duplicate keys {duplicates}", node.start_mark
        )
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def test_deploy_has_yaml_files() -> None:
    assert len(YAML_FILES) >= 10


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_yaml_parses_without_duplicate_keys(path: Path) -> None:
    documents = [doc for doc in yaml.load_all(path.read_text(), Loader=_StrictLoader) if doc]
    assert documents
    assert all(isinstance(doc, dict) for doc in documents)


def test_duplicate_keys_are_caught() -> None:
    with pytest.raises(yaml.constructor.ConstructorError, match="duplicate keys"):
        yaml.load("a: 1\nb: 2\na: 3\n", Loader=_StrictLoader)  # noqa: S506  # a SafeLoader subclass
