"""Reading deploy/: the YAML files, the Kubernetes objects of each kustomization, the settings an
environment block configures. Shared by the tests of tests/deploy/."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type stubs and the lock has none

from apiforge.kit import Settings

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
YAML_FILES = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
# 48 bytes: a production-grade stand-in for the secret every configuration leaves out.
FAKE_SECRET_KEY = "s" * 48

Document = dict[str, Any]


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def load_documents(path: Path) -> list[Document]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def kustomization_files(directory: Path) -> list[Path]:
    """The manifest files a kustomization builds, recursing into directory resources."""
    spec: Document = load_yaml(directory / "kustomization.yaml")
    files: list[Path] = []
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        files.extend(kustomization_files(path) if path.is_dir() else [path])
    return files


def kustomization_objects(directory: Path) -> list[Document]:
    return [doc for path in kustomization_files(directory) for doc in load_documents(path)]


def all_k8s_objects() -> Iterator[tuple[Path, Document]]:
    """Every Kubernetes object under deploy/k8s (kustomizations excluded)."""
    for path in sorted(K8S.rglob("*.yaml")):
        for doc in load_documents(path):
            if doc.get("kind") != "Kustomization":
                yield path, doc


def find(objects: list[Document], kind: str) -> Document:
    matches = [doc for doc in objects if doc["kind"] == kind]
    assert len(matches) == 1, f"expected one {kind}, found {len(matches)}"
    return matches[0]


def settings_from(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings a process started with exactly `environment` builds (no `.env` file).
    Also fails on APIFORGE_* names that match no setting: pydantic-settings ignores those
    silently, so a typo would otherwise configure nothing."""
    for name in list(os.environ):
        if name.startswith("APIFORGE_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        assert_names_a_setting(name)
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


def assert_names_a_setting(name: str) -> None:
    assert name.startswith("APIFORGE_"), name
    fields: dict[str, Any] = dict(Settings.model_fields)
    parts = name.removeprefix("APIFORGE_").lower().split("__")
    for index, part in enumerate(parts):
        assert part in fields, f"{name}: no setting {'.'.join(parts[: index + 1])}"
        annotation = fields[part].annotation
        fields = dict(getattr(annotation, "model_fields", {}))
