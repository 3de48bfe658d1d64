"""Real server processes here run with the CLI tests' clean environment."""

from tests.cli.conftest import clean_env  # noqa: F401  # a fixture
