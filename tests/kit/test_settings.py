import os
import re
import secrets
from pathlib import Path

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from apiforge.kit.settings import (
    DEVELOPMENT_SECRET_KEY,
    AuthSettings,
    Environment,
    MetricsSettings,
    Settings,
)

LONG_KEY = secrets.token_urlsafe(48)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No APIFORGE_* variable or `.env` of the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith("APIFORGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_default_environment_is_production() -> None:
    settings = Settings(secret_key=SecretStr(LONG_KEY), _env_file=None)
    assert settings.environment is Environment.PRODUCTION
    assert settings.docs_enabled is False


def test_production_refuses_a_missing_secret_key() -> None:
    with pytest.raises(ValidationError, match="APIFORGE_SECRET_KEY must be set"):
        Settings(_env_file=None)


def test_production_refuses_the_development_key() -> None:
    with pytest.raises(ValidationError, match="APIFORGE_SECRET_KEY must be set"):
        Settings(secret_key=SecretStr(DEVELOPMENT_SECRET_KEY), _env_file=None)


def test_production_refuses_a_short_key() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(secret_key=SecretStr("x" * 31), _env_file=None)


def test_production_accepts_a_long_random_key() -> None:
    settings = Settings(secret_key=SecretStr(LONG_KEY), _env_file=None)
    assert settings.signing_key == LONG_KEY
    assert LONG_KEY not in repr(settings)  # SecretStr: never printed by accident


def test_production_wants_a_key_as_long_as_the_digest() -> None:
    key = SecretStr("k" * 48)
    with pytest.raises(ValidationError, match="at least 64 bytes in production with HS512"):
        Settings(secret_key=key, auth=AuthSettings(algorithm="HS512"), _env_file=None)
    assert Settings(secret_key=key, auth=AuthSettings(algorithm="HS384"), _env_file=None)


@pytest.mark.parametrize(("memory_kib", "time_cost"), [(1024, 2), (19455, 2), (19456, 1)])
def test_production_refuses_weak_argon2(memory_kib: int, time_cost: int) -> None:
    auth = AuthSettings(argon2_memory_kib=memory_kib, argon2_time_cost=time_cost)
    with pytest.raises(ValidationError, match="OWASP"):
        Settings(secret_key=SecretStr(LONG_KEY), auth=auth, _env_file=None)


@pytest.mark.parametrize(("memory_kib", "time_cost"), [(19456, 2), (47104, 1), (7168, 5)])
def test_production_accepts_owasp_argon2(memory_kib: int, time_cost: int) -> None:
    auth = AuthSettings(argon2_memory_kib=memory_kib, argon2_time_cost=time_cost)
    assert Settings(secret_key=SecretStr(LONG_KEY), auth=auth, _env_file=None)


@pytest.mark.parametrize("environment", [Environment.DEVELOPMENT, Environment.TEST])
def test_development_and_test_fall_back_to_the_public_key(environment: Environment) -> None:
    settings = Settings(environment=environment, _env_file=None)
    assert settings.signing_key == DEVELOPMENT_SECRET_KEY
    assert settings.docs_enabled is True


def test_production_serves_docs_only_when_asked() -> None:
    assert Settings(secret_key=SecretStr(LONG_KEY), _env_file=None).docs_enabled is False
    exposed = Settings(secret_key=SecretStr(LONG_KEY), expose_docs=True, _env_file=None)
    assert exposed.docs_enabled is True


def test_test_environment_gets_cheap_argon2() -> None:
    auth = Settings(environment=Environment.TEST, _env_file=None).auth
    assert (auth.argon2_memory_kib, auth.argon2_time_cost) == (64, 1)


def test_test_environment_keeps_explicit_argon2_memory() -> None:
    settings = Settings(
        environment=Environment.TEST, auth=AuthSettings(argon2_memory_kib=1024), _env_file=None
    )
    assert settings.auth.argon2_memory_kib == 1024


@pytest.mark.parametrize("environment", [Environment.PRODUCTION, Environment.DEVELOPMENT])
def test_other_environments_keep_owasp_minimum(environment: Environment) -> None:
    auth = Settings(environment=environment, secret_key=SecretStr(LONG_KEY), _env_file=None).auth
    assert auth.argon2_memory_kib >= 19456
    assert auth.argon2_time_cost >= 2


def test_nested_sections_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIFORGE_ENVIRONMENT", "test")
    monkeypatch.setenv("APIFORGE_DB__POOL_SIZE", "7")
    monkeypatch.setenv("APIFORGE_DB__STATEMENT_TIMEOUT_MS", "1234")
    monkeypatch.setenv("APIFORGE_HEALTH__CHECK_TIMEOUT_SECONDS", "0.5")
    settings = Settings(_env_file=None)
    assert settings.environment is Environment.TEST
    assert settings.db.pool_size == 7
    assert settings.db.statement_timeout_ms == 1234
    assert settings.health.check_timeout_seconds == 0.5


@pytest.mark.parametrize(
    ("value", "expected"), [("", None), ("amqp://u:p@rabbitmq:5672/", "amqp://u:p@rabbitmq:5672/")]
)
def test_an_empty_broker_url_means_no_broker(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str | None
) -> None:
    """Compose's `${APIFORGE_EVENTS__AMQP_URL:-}` outside the events profile."""
    monkeypatch.setenv("APIFORGE_ENVIRONMENT", "test")
    monkeypatch.setenv("APIFORGE_EVENTS__AMQP_URL", value)
    url = Settings(_env_file=None).events.amqp_url
    assert (None if url is None else url.get_secret_value()) == expected


def test_secret_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIFORGE_SECRET_KEY", LONG_KEY)
    assert Settings(_env_file=None).signing_key == LONG_KEY


def test_invalid_nested_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIFORGE_ENVIRONMENT", "test")
    monkeypatch.setenv("APIFORGE_DB__POOL_SIZE", "0")
    with pytest.raises(ValidationError, match="pool_size"):
        Settings(_env_file=None)


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "APIFORGE_ENVIRONMENT=test\n"
        "APIFORGE_DATABASE_URL=sqlite+aiosqlite:///./from-dotenv.db\n"
        "APIFORGE_DB__POOL_SIZE=3\n"
    )
    settings = Settings()  # the clean_environment fixture made tmp_path the working directory
    assert settings.environment is Environment.TEST
    assert settings.database_url == "sqlite+aiosqlite:///./from-dotenv.db"
    assert settings.db.pool_size == 3


def test_environment_variables_win_over_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("APIFORGE_ENVIRONMENT=test\nAPIFORGE_DB__POOL_SIZE=3\n")
    monkeypatch.setenv("APIFORGE_DB__POOL_SIZE", "9")
    assert Settings().db.pool_size == 9


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError, match="environment"):
        Settings(environment="staging", _env_file=None)  # type: ignore[arg-type]  # on purpose


def test_is_sqlite() -> None:
    assert Settings(environment=Environment.TEST, _env_file=None).is_sqlite
    pg = Settings(
        environment=Environment.TEST,
        database_url="postgresql+asyncpg://u@h/db",
        _env_file=None,
    )
    assert not pg.is_sqlite


# ---------------------------------------------------------------- a service's own settings


class NotesSection(BaseModel):
    page_size: int = 20


class NotesSettings(Settings, env_prefix="NOTES_"):
    service_name: str = "notes"
    notes: NotesSection = NotesSection()


@pytest.fixture
def notes_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("NOTES_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NOTES_ENVIRONMENT", "development")


@pytest.mark.usefixtures("notes_env")
def test_a_service_reads_its_own_prefix_and_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTES_NOTES__PAGE_SIZE", "50")
    monkeypatch.setenv("NOTES_DB__POOL_SIZE", "7")
    monkeypatch.setenv("APIFORGE_DB__POOL_SIZE", "99")  # another service's: ignored
    settings = NotesSettings(_env_file=None)
    assert settings.notes.page_size == 50
    assert settings.db.pool_size == 7
    assert NotesSettings.env_name("db.pool_size") == "NOTES_DB__POOL_SIZE"
    assert Settings.env_name("secret_key") == "APIFORGE_SECRET_KEY"


@pytest.mark.usefixtures("notes_env")
def test_names_default_from_the_service_name() -> None:
    settings = NotesSettings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///./notes.db"
    assert (settings.auth.issuer, settings.auth.audience) == ("notes", "notes-api")
    assert settings.cache.key_prefix == "notes:cache:"
    assert settings.cache.channel == "notes:cache:invalidations"
    assert settings.metrics.namespace == "notes"
    assert settings.tracing.service_name == "notes"
    # The kit's own defaults are the shop's, unchanged.
    kit = Settings(environment=Environment.DEVELOPMENT, _env_file=None)
    assert (kit.database_url, kit.auth.issuer, kit.metrics.namespace) == (
        "sqlite+aiosqlite:///./apiforge.db",
        "apiforge",
        "apiforge",
    )


@pytest.mark.usefixtures("notes_env")
def test_names_set_explicitly_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTES_AUTH__ISSUER", "https://id.example.com")
    monkeypatch.setenv("NOTES_CACHE__KEY_PREFIX", "shared:")
    settings = NotesSettings(_env_file=None, metrics=MetricsSettings(namespace="notes_api"))
    assert settings.auth.issuer == "https://id.example.com"
    assert settings.auth.audience == "notes-api"  # the unset one still follows the name
    assert settings.cache.key_prefix == "shared:"
    assert settings.metrics.namespace == "notes_api"


def test_a_refusal_names_the_services_own_variable() -> None:
    with pytest.raises(ValidationError, match="NOTES_SECRET_KEY must be set"):
        NotesSettings(environment=Environment.PRODUCTION, _env_file=None)


def test_for_tests_builds_test_settings_of_the_subclass(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("NOTES_NOTES__PAGE_SIZE=3\n")
    settings = NotesSettings.for_tests("sqlite+aiosqlite:///./t.db", notes={"page_size": 9})
    assert isinstance(settings, NotesSettings)
    assert settings.environment is Environment.TEST
    assert settings.notes.page_size == 9  # the .env of the folder is not read


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("notaurl", "not a database URL"),
        ("postgres://u:pw@h/db", "use postgresql+asyncpg://u:***@h/db"),
        ("postgresql://u@h/db", "use postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "use postgresql+asyncpg://u@h/db"),
        ("sqlite:///./x.db", "use sqlite+aiosqlite:///./x.db"),
        ("mysql+aiomysql://u@h/db", "the kit runs on SQLite or PostgreSQL"),
    ],
)
def test_database_urls_name_the_form_to_use(url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as refused:
        Settings(environment=Environment.DEVELOPMENT, database_url=url, _env_file=None)
    (error,) = refused.value.errors(include_input=False)
    assert ":pw@" not in error["msg"]  # the message hides the password it echoes


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:///./a.db", "postgresql+asyncpg://app:pw@db.internal:5432/shop"]
)
def test_supported_database_urls_pass(url: str) -> None:
    settings = Settings(environment=Environment.DEVELOPMENT, database_url=url, _env_file=None)
    assert settings.database_url == url
