"""CLI tests run each command against a clean environment: no APIFORGE_* from the developer's
shell and no `.env` from the checkout (the working directory is a temporary one)."""

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apiforge.cli import app

# 48 bytes: long enough for production, so only the setting under test is wrong.
PRODUCTION_KEY = "k" * 48


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment without APIFORGE_* settings; the cwd is `tmp_path`."""
    for name in list(os.environ):
        if name.startswith("APIFORGE_") and not name.startswith("APIFORGE_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return dict(os.environ)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"


def invoke(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash, not an exit code: show its traceback
    return result.exit_code, result.stdout, result.stderr
