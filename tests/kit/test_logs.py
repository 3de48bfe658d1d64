"""Logging set-up: JSON lines with their fields, log-context providers, the console format, the
production rule, and one handler through which the servers' and libraries' loggers write too."""

import asyncio
import io
import logging
import logging.config
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import orjson
import pytest
import uvicorn
from fastapi import APIRouter
from pydantic import SecretStr

from apiforge.kit.logs import (
    ConsoleFormatter,
    JSONFormatter,
    KitLogHandler,
    configure_logging,
    effective_log_format,
    log_fields,
    register_log_context,
    unregister_log_context,
)
from apiforge.kit.request_context import bind_request_id, reset_request_id
from apiforge.kit.settings import Environment, Settings
from apiforge.shop.settings import ShopSettings
from tests.kit.apps import json_lines, kit_app, kit_settings, restored_logging

SECRET_KEY = "k" * 40
logger = logging.getLogger("apiforge.tests")


@pytest.fixture
def output(sqlite_url: str) -> Iterator[io.StringIO]:
    """Logging configured for the test environment, writing JSON into a buffer."""
    buffer = io.StringIO()
    with restored_logging():
        configure_logging(kit_settings(sqlite_url), buffer)
        yield buffer


def production(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"environment": Environment.PRODUCTION}
    values.update(overrides)
    return Settings(_env_file=None, secret_key=SecretStr(SECRET_KEY), **values)


def test_json_line_has_the_fields(output: io.StringIO) -> None:
    token = bind_request_id("req-1")
    try:
        logger.info("hello %s", "world", extra={"fields": {"count": 3}})
    finally:
        reset_request_id(token)
    (line,) = json_lines(output)
    assert line["level"] == "info"
    assert line["event"] == "hello world"
    assert line["logger"] == "apiforge.tests"
    assert line["request_id"] == "req-1"
    assert line["count"] == 3
    assert line["timestamp"].endswith("Z")
    assert datetime.fromisoformat(line["timestamp"]).tzinfo is not None
    assert "trace_id" not in line  # nothing registered: no such field


def test_outside_a_request_the_id_is_null(output: io.StringIO) -> None:
    logger.warning("no request")
    (line,) = json_lines(output)
    assert line["request_id"] is None
    assert line["level"] == "warning"


def test_exception_and_stack_are_string_fields(output: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    logger.info("here", stack_info=True)
    failed, here = json_lines(output)
    assert isinstance(failed["exception"], str)
    assert failed["exception"].startswith("Traceback")
    assert "ValueError: boom" in failed["exception"]
    assert failed["level"] == "error"
    assert "test_exception_and_stack_are_string_fields" in here["stack"]


def test_log_fields_writes_structured_fields(output: io.StringIO) -> None:
    log_fields(logger, logging.INFO, "event", {"a": 1, "password": "hunter2"})
    log_fields(logger, logging.DEBUG, "below the level", {"a": 2})
    (line,) = json_lines(output)
    assert line["a"] == 1
    assert line["password"] == "[REDACTED]"  # untrusted fields are scanned


def test_unserialisable_field_is_written_as_text(output: io.StringIO) -> None:
    logger.info("odd", extra={"fields": {"value": {1, 2}.__class__}})
    log_fields(logger, logging.INFO, "trusted", {"value": {1, 2}.__class__}, trusted=True)
    odd, trusted = json_lines(output)
    assert odd["value"] == trusted["value"] == "<class 'set'>"


def test_context_providers_add_their_fields(output: io.StringIO) -> None:
    def trace() -> Mapping[str, str]:
        return {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"}

    def nothing() -> Mapping[str, str] | None:
        return None

    register_log_context(trace)
    register_log_context(trace)  # once only
    register_log_context(nothing)
    try:
        logger.info("traced")
    finally:
        unregister_log_context(trace)
        unregister_log_context(nothing)
    unregister_log_context(nothing)  # unknown: no error
    logger.info("untraced")
    traced, untraced = json_lines(output)
    assert traced["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert traced["span_id"] == "00f067aa0ba902b7"
    assert "trace_id" not in untraced


def test_kit_level_applies_to_kit_loggers_only(sqlite_url: str) -> None:
    buffer = io.StringIO()
    with restored_logging():
        configure_logging(kit_settings(sqlite_url, log_level="DEBUG"), buffer)
        logger.debug("ours")
        logging.getLogger("somelibrary").debug("theirs")
        logging.getLogger("somelibrary").info("theirs at info")
    assert [line["event"] for line in json_lines(buffer)] == ["ours", "theirs at info"]


def test_configuring_twice_leaves_one_handler(sqlite_url: str) -> None:
    with restored_logging():
        logging.getLogger().addHandler(logging.StreamHandler(io.StringIO()))  # basicConfig's kind
        configure_logging(kit_settings(sqlite_url), io.StringIO())
        configure_logging(kit_settings(sqlite_url), io.StringIO())
        handlers = logging.getLogger().handlers
        assert len([h for h in handlers if isinstance(h, KitLogHandler)]) == 1
        assert not [h for h in handlers if type(h) is logging.StreamHandler]


def test_handler_flushes_a_buffered_stream(tmp_path: Any, sqlite_url: str) -> None:
    path = tmp_path / "log.jsonl"
    with restored_logging(), path.open("w") as stream:  # fully buffered, not a terminal
        configure_logging(kit_settings(sqlite_url), stream)
        logger.info("flushed")
        assert orjson.loads(path.read_text())["event"] == "flushed"


def test_a_failing_stream_does_not_raise(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging, "raiseExceptions", False)
    stream = io.StringIO()
    with restored_logging():
        configure_logging(kit_settings(sqlite_url), stream)
        stream.close()
        logger.info("lost, but the caller goes on")


# ---------------------------------------------------------------- formats


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_console_format_is_plain_without_a_terminal(sqlite_url: str) -> None:
    buffer = io.StringIO()
    settings = kit_settings(sqlite_url, log_format="console")
    assert effective_log_format(settings) == "console"
    with restored_logging():
        configure_logging(settings, buffer)
        token = bind_request_id("req-c")
        try:
            logger.info("hello", extra={"fields": {"status": 200, "user_id": None}})
            try:
                raise KeyError("missing")
            except KeyError:
                logger.exception("failed")
        finally:
            reset_request_id(token)
    text = buffer.getvalue()
    assert "\x1b[" not in text
    first, *rest = text.splitlines()
    assert first.endswith("INFO     apiforge.tests [req-c] hello status=200")
    assert rest[0].endswith("ERROR    apiforge.tests [req-c] failed")
    assert rest[1] == "Traceback (most recent call last):"
    assert rest[-1] == "KeyError: 'missing'"


def test_console_format_is_coloured_on_a_terminal(sqlite_url: str) -> None:
    terminal = Terminal()
    with restored_logging():
        configure_logging(kit_settings(sqlite_url, log_format="console"), terminal)
        logger.warning("look", extra={"fields": {"a": 1}})
        logger.critical("bad")
    warning, critical = terminal.getvalue().splitlines()
    assert "\x1b[33mWARNING" in warning
    assert "[-] look" in warning
    assert "\x1b[1;31mCRITICAL" in critical
    assert critical.endswith("bad")  # no fields: nothing after the event


def test_console_formatter_masks_secrets() -> None:
    record = logging.LogRecord("x", logging.INFO, "", 0, "token=abc123", None, None)
    assert "abc123" not in ConsoleFormatter().format(record)
    assert "abc123" not in JSONFormatter().format(record)


def test_production_refuses_the_console_format() -> None:
    settings = production(log_format="console")
    assert effective_log_format(settings) == "json"
    buffer = io.StringIO()
    with restored_logging():
        configure_logging(settings, buffer)
        logger.info("after")
    warning, after = json_lines(buffer)
    assert warning["level"] == "warning"
    assert "console is ignored in production" in warning["event"]
    assert after["event"] == "after"


def test_the_settings_secrets_are_known_to_the_redactor() -> None:
    settings = production(
        database_url="postgresql+asyncpg://app:db-password-1@db:5432/shop",
        redis_url="redis://:redis-password-2@cache:6379/0",
    )
    values = settings.secret_values()
    assert SECRET_KEY in values
    assert {"db-password-1", "redis-password-2"} <= set(values)
    assert production().secret_values() == [SECRET_KEY]
    # A service's own secret fields are found too (the shop's demo password, say).
    assert ShopSettings(
        _env_file=None, environment=Environment.PRODUCTION, secret_key=SecretStr(SECRET_KEY)
    ).secret_values() == [SECRET_KEY, "apiforge-demo"]
    buffer = io.StringIO()
    with restored_logging():
        configure_logging(settings, buffer)
        logger.info("key is %s; db password %s", SECRET_KEY, "db-password-1")
    (line,) = json_lines(buffer)
    assert SECRET_KEY not in line["event"]
    assert "db-password-1" not in line["event"]


# ---------------------------------------------------------------- third-party loggers


def test_server_and_library_loggers_write_json(sqlite_url: str) -> None:
    """Uvicorn's and Gunicorn's own handlers (as their default configs install them) are
    replaced: their lines come out as JSON through the kit's handler; their access lines are
    kept quiet (ours replaces them)."""
    buffer = io.StringIO()
    with restored_logging():
        logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
        logging.getLogger("gunicorn.error").addHandler(logging.StreamHandler(io.StringIO()))
        logging.getLogger("gunicorn.error").propagate = False
        configure_logging(kit_settings(sqlite_url), buffer)
        for name in ("uvicorn.error", "gunicorn.error", "alembic.runtime.migration", "other"):
            logging.getLogger(name).info("from %s", name)
        logging.getLogger("sqlalchemy.engine").warning("from sqlalchemy")
        logging.getLogger("uvicorn.access").info("GET / 200")
    lines = json_lines(buffer)
    assert [line["logger"] for line in lines] == [
        "uvicorn.error",
        "gunicorn.error",
        "alembic.runtime.migration",
        "other",
        "sqlalchemy.engine",
    ]
    assert all(line["event"].startswith("from ") for line in lines)


router = APIRouter()


@router.get("/hello")
async def hello() -> dict[str, str]:
    logging.getLogger("apiforge.tests").info("in handler")
    return {"hello": "world"}


async def test_a_real_uvicorn_server_logs_only_json(sqlite_url: str) -> None:
    """As `apiforge serve` runs it (log_config=None, no access log): every line on the stream
    is one JSON object, Uvicorn's own lines included."""
    with restored_logging():
        app = kit_app(sqlite_url, router)
        (handler,) = [h for h in logging.getLogger().handlers if isinstance(h, KitLogHandler)]
        buffer = io.StringIO()
        handler.setStream(buffer)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="on"
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
            await asyncio.sleep(0.01)
        (port,) = [s.getsockname()[1] for srv in server.servers for s in srv.sockets]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (await reader.read()).startswith(b"HTTP/1.1 200")
        writer.close()
        server.should_exit = True
        await task
    lines = json_lines(buffer)
    events = [(line["logger"], line["event"]) for line in lines]
    assert ("uvicorn.error", "Application startup complete.") in events
    assert ("apiforge.tests", "in handler") in events
    assert ("apiforge.access", "request") in events
    assert any(logger_name == "uvicorn.error" and "Shutting down" in e for logger_name, e in events)
