"""A service of one's own, as a newcomer writes it in a fresh folder: one model on the kit's
`Base`, an app factory, a migration history started by `apiforge db init`. The CLI finds the
service with `--app` from the current folder, autogenerates a revision that runs as written,
migrates, reports a database that is behind, and refuses what is wrong in one line. Each
command runs in a fresh interpreter, as a user's would (so only this service's models are on
the kit's metadata)."""

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import invoke

APP = "mysvc.app:create_app"

MODELS = """
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from apiforge.kit import Base, CreatedAt, IdPk, UTCDateTime


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[IdPk]
    body: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[CreatedAt]
"""

LATER_COLUMN = """
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
"""

APP_MODULE = """
from pathlib import Path

from fastapi import APIRouter, FastAPI
from sqlalchemy import func, select

import apiforge.kit as kit
from mysvc.models import Note


class MySettings(kit.Settings, env_prefix="MYSVC_"):
    service_name: str = "mysvc"


router = APIRouter()


@router.get("/notes/count")
async def count_notes(session: kit.ReadSession) -> dict[str, int]:
    return {"count": (await session.execute(select(func.count(Note.id)))).scalar_one()}


def create_app(settings: MySettings | None = None) -> FastAPI:
    return kit.create_app(
        settings or MySettings(), routers=[router], migrations=Path(__file__).parent / "migrations"
    )
"""


@pytest.fixture
def folder(tmp_path: Path, clean_env: dict[str, str]) -> Path:
    """The service's folder, the current one (clean_env's cwd), the package not installed."""
    package = tmp_path / "mysvc"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS.lstrip())
    (package / "app.py").write_text(APP_MODULE.lstrip())
    return tmp_path


def apiforge(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in _base_env().items()} | {"MYSVC_ENVIRONMENT": "development"}
    return subprocess.run(  # noqa: S603  # our own interpreter and arguments
        [sys.executable, "-m", "apiforge", *args],
        cwd=folder,
        env=environment | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith(("APIFORGE_", "MYSVC_"))}


def _tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_init_revision_upgrade_and_current_on_a_service_of_ones_own(folder: Path) -> None:
    started = apiforge(folder, "db", "init", "mysvc/migrations", "--base", "mysvc.models:Base")
    assert started.returncode == 0, started.stderr
    assert "run_alembic_env(Base.metadata)" in (folder / "mysvc/migrations/env.py").read_text()

    first = apiforge(folder, "db", "revision", "-m", "notes", "--app", APP)
    assert first.returncode == 0, first.stderr
    (script,) = (folder / "mysvc/migrations/versions").glob("*_notes.py")
    # Only this service's table: nothing of the shop (whose models the CLI must not load).
    assert re.findall(r"create_table\(\s*['\"](\w+)['\"]", script.read_text()) == ["notes"]
    assert apiforge(folder, "db", "upgrade", "--app", APP).returncode == 0
    assert _tables(folder / "mysvc.db") == {"notes", "alembic_version"}  # named after the service
    assert apiforge(folder, "db", "current", "--app", APP).returncode == 0

    # A new column of the kit's type: the script imports it from the public API and runs.
    models = folder / "mysvc/models.py"
    models.write_text(models.read_text() + LATER_COLUMN)
    second = apiforge(folder, "db", "revision", "-m", "archive notes", "--app", APP)
    assert second.returncode == 0, second.stderr
    (script,) = [p for p in (folder / "mysvc/migrations/versions").glob("*archive_notes.py")]
    text = script.read_text()
    assert "from apiforge.kit import UTCDateTime" in text
    assert "UTCDateTime()" in text
    assert "apiforge.kit.db" not in text

    behind = apiforge(folder, "db", "current", "--app", APP)
    assert behind.returncode == 1
    assert "run `apiforge db upgrade`" in behind.stdout
    upgraded = apiforge(folder, "db", "upgrade", "--app", APP)
    assert upgraded.returncode == 0, upgraded.stderr
    with sqlite3.connect(folder / "mysvc.db") as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(notes)")}
    assert "archived_at" in columns


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["db", "upgrade", "--app", "nosuch.app:create_app"], "cannot import 'nosuch.app'"),
        (["db", "upgrade", "--app", "mysvc.app:nothing"], "'mysvc.app' has no app factory"),
        (["db", "upgrade", "--app", "mysvc.app"], "is not module:function"),
        (["db", "upgrade", "--app", APP], "has no migrations"),  # before `db init`
    ],
    ids=["no-module", "no-factory", "no-colon", "no-history"],
)
def test_a_wrong_app_is_one_line(folder: Path, args: list[str], message: str) -> None:
    (folder / "mysvc/app.py").write_text(
        APP_MODULE.replace(', migrations=Path(__file__).parent / "migrations"', "")
    )
    done = apiforge(folder, *args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr


URLS = [
    ("notaurl", "not a database URL; use sqlite+aiosqlite:///./file.db or postgresql+asyncpg://"),
    ("postgres://app:secret@db.internal/shop", "use postgresql+asyncpg://app:***@db.internal/shop"),
    ("postgresql://app@db.internal/shop", "use postgresql+asyncpg://app@db.internal/shop"),
    ("sqlite:///./x.db", "use sqlite+aiosqlite:///./x.db"),
]
URL_IDS = ["not-a-url", "heroku-style", "sync-driver", "sync-sqlite"]


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(("url", "message"), URLS, ids=URL_IDS)
@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"]], ids=["serve", "db"])
def test_a_wrong_database_url_is_one_line_naming_the_right_form(
    command: list[str], url: str, message: str
) -> None:
    code, out, err = invoke(command, {"APIFORGE_DATABASE_URL": url})
    assert (code, out) == (2, "")
    assert err.count("\n") == 1, err
    assert err.startswith("apiforge: invalid settings: database_url: ")
    assert message in err
    assert "secret" not in err


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(("url", "message"), URLS, ids=URL_IDS)
def test_check_reports_a_wrong_database_url_as_a_finding(url: str, message: str) -> None:
    code, out, _ = invoke(["check"], {"APIFORGE_DATABASE_URL": url})
    assert code == 1
    assert message in " ".join(out.split())


def test_a_real_process_refuses_it_too(folder: Path) -> None:
    done = apiforge(folder, "serve", "--app", APP, MYSVC_DATABASE_URL="postgres://db/shop")
    assert done.returncode == 2
    assert done.stderr == (
        "apiforge: invalid settings: database_url: postgres:// is not supported: PostgreSQL is "
        "reached through asyncpg: use postgresql+asyncpg://db/shop\n"
    )


def test_another_services_history_is_one_line(folder: Path) -> None:
    """The shop's migrations against this service's database (a history the shop does not
    know): Alembic's refusal, in one line, instead of a 90-line traceback."""
    assert (
        apiforge(folder, "db", "init", "mysvc/migrations", "--base", "mysvc.models:Base").returncode
        == 0
    )
    assert apiforge(folder, "db", "revision", "-m", "notes", "--app", APP).returncode == 0
    assert apiforge(folder, "db", "upgrade", "--app", APP).returncode == 0
    url = f"sqlite+aiosqlite:///{folder / 'mysvc.db'}"
    shop = apiforge(
        folder, "db", "upgrade", APIFORGE_ENVIRONMENT="development", APIFORGE_DATABASE_URL=url
    )
    assert shop.returncode == 1
    assert shop.stderr.count("\n") == 1, shop.stderr
    assert shop.stderr.startswith("apiforge: migrations: Can't locate revision identified by")
