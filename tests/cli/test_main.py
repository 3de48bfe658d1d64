import subprocess
import sys

import pytest

from apiforge import __version__
from tests.cli.conftest import invoke


@pytest.mark.usefixtures("clean_env")
def test_help_lists_the_commands() -> None:
    code, out, _ = invoke(["--help"], {})
    assert code == 0
    assert "serve" in out
    assert "db" in out


@pytest.mark.usefixtures("clean_env")
def test_db_help_lists_upgrade_and_seed() -> None:
    code, out, _ = invoke(["db", "--help"], {})
    assert code == 0
    assert "upgrade" in out
    assert "seed" in out


@pytest.mark.usefixtures("clean_env")
def test_production_without_secret_is_one_line_and_exit_2() -> None:
    code, out, err = invoke(["db", "upgrade"], {"APIFORGE_ENVIRONMENT": "production"})
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "APIFORGE_SECRET_KEY must be set" in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("clean_env")
def test_bad_setting_names_the_field_without_its_value() -> None:
    code, _, err = invoke(
        ["db", "upgrade"],
        {"APIFORGE_ENVIRONMENT": "development", "APIFORGE_DB__POOL_SIZE": "-7"},
    )
    assert code == 2
    assert err.startswith("apiforge: invalid settings: db.pool_size:")
    assert "-7" not in err


def test_the_command_line_loads_without_the_kit() -> None:
    """`apiforge --help` and `--version` answer at once: the kit (FastAPI, SQLAlchemy, Alembic,
    about two seconds of imports) and the shop load only when a command runs."""
    heavy = "('apiforge.kit', 'apiforge.shop', 'sqlalchemy', 'fastapi')"
    probe = f"import sys, apiforge.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run(  # noqa: S603  # our own interpreter
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.usefixtures("clean_env")
def test_version() -> None:
    code, out, _ = invoke(["--version"], {})
    assert (code, out) == (0, f"apiforge {__version__}\n")
