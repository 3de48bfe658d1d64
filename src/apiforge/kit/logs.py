"""Process-wide logging: one handler on the root logger through which every logger (ours,
Uvicorn's, Gunicorn's, SQLAlchemy's...) writes one JSON object per line (the default, and always
in production) or a human console line in development; each line carries the request ID and
whatever the registered log-context providers add (the tracing's trace/span IDs), with secrets
masked. Not for: the access line's fields (kit/access_log.py) or metrics.

Stdlib logging with orjson, not structlog: measured faster per access line with one pipeline
for every library (scripts/micro/access_log.py).
"""

import logging
import sys
import traceback
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Literal, TextIO

import orjson

from apiforge.kit.redaction import Redactor
from apiforge.kit.request_context import current_request_id
from apiforge.kit.settings import Environment, Settings

LogContextProvider = Callable[[], Mapping[str, str] | None]
LogFormat = Literal["json", "console"]
# Loggers that servers and libraries configure with handlers of their own: ours replaces them, so
# their lines come out in our format (the CLI passes log_config=None to Uvicorn).
THIRD_PARTY_LOGGERS = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "uvicorn.asgi",
    "gunicorn",
    "gunicorn.error",
    "gunicorn.access",
    "_granian",
    "granian.access",
    "sqlalchemy",
    "alembic",
)
# The servers' own access lines: ours (kit/access_log.py) replaces them, so they are kept quiet
# even when a server is started with its access log on.
SERVER_ACCESS_LOGGERS = ("uvicorn.access", "gunicorn.access", "granian.access")
# Lines that repeat, per message, what ours already say once with more: taskiq's "Executing
# task" (the job run line says it) and aiosmtpd's every SMTP command (the sink's one line).
CHATTY_LOGGERS = ("taskiq", "mail.log")
KIT_LOGGER = "apiforge"
# Record attributes set by `log_fields` (or `extra={"fields": {...}}` for the structured part).
FIELDS_ATTR = "fields"
TRUSTED_ATTR = "apiforge_trusted"

_LEVELS = logging.getLevelNamesMapping()
_LEVEL_NAMES = {n: logging.getLevelName(n).lower() for n in (10, 20, 30, 40, 50)}
_TRACEBACKS = logging.Formatter()
_COLORS = {"DEBUG": "\x1b[2m", "INFO": "\x1b[32m", "WARNING": "\x1b[33m", "ERROR": "\x1b[31m"}
_COLOR_CRITICAL = "\x1b[1;31m"
_DIM = "\x1b[2m"
_RESET = "\x1b[0m"

# Read on every line: a list, empty until the tracing registers its provider (no cost then).
_context_providers: list[LogContextProvider] = []


def register_log_context(provider: LogContextProvider) -> None:
    """Adds `provider`'s fields (e.g. trace_id, span_id) to every line; it runs once per line,
    in the caller's context (so it sees the current span), and returns None when it has
    nothing to add."""
    if provider not in _context_providers:
        _context_providers.append(provider)


def unregister_log_context(provider: LogContextProvider) -> None:
    if provider in _context_providers:
        _context_providers.remove(provider)


def log_fields(
    logger: logging.Logger,
    level: int,
    event: str,
    fields: Mapping[str, object],
    *,
    trusted: bool = False,
) -> None:
    """Logs `event` with structured `fields`, without the caller lookup `logger.info` does (the
    hot path's form). `trusted` fields are known to hold no secret, so they are not scanned."""
    if not logger.isEnabledFor(level):
        return
    record = logger.makeRecord(logger.name, level, "", 0, event, (), None)
    record.__dict__[FIELDS_ATTR] = fields
    record.__dict__[TRUSTED_ATTR] = trusted
    logger.handle(record)


def _add_request_context(line: dict[str, object]) -> None:
    """The request ID, then whatever the registered providers add (trace and span IDs)."""
    line["request_id"] = current_request_id()
    for provider in _context_providers:
        extra = provider()
        if extra:
            line.update(extra)


def _render_json(line: dict[str, object]) -> str:
    return orjson.dumps(line, default=str, option=orjson.OPT_UTC_Z).decode()


def add_line_content(
    line: dict[str, object], record: logging.LogRecord, redactor: Redactor
) -> None:
    """Adds what follows the timestamp and level to `line`, secrets masked unless trusted."""
    trusted = record.__dict__.get(TRUSTED_ATTR, False)
    event = record.getMessage()
    line["event"] = event if trusted else redactor.text(event)
    line["logger"] = record.name
    _add_request_context(line)
    fields = record.__dict__.get(FIELDS_ATTR)
    if fields:
        line.update(fields if trusted else redactor.fields(fields))
    if record.exc_info:
        line["exception"] = redactor.text(_TRACEBACKS.formatException(record.exc_info))
    if record.stack_info:
        line["stack"] = redactor.text(record.stack_info)


def json_line(logger_name: str, event: str, fields: Mapping[str, object]) -> str:
    """The line `JSONFormatter` would write for an INFO record of trusted `fields`, without a
    record: the access log's batched form (kit/access_log.py)."""
    line: dict[str, object] = {
        "timestamp": datetime.now(UTC),
        "level": "info",
        "event": event,
        "logger": logger_name,
    }
    _add_request_context(line)
    line.update(fields)
    return _render_json(line)


class JSONFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            # orjson writes the datetime itself (ISO 8601, "Z"): cheaper than isoformat().
            "timestamp": datetime.fromtimestamp(record.created, UTC),
            "level": _LEVEL_NAMES.get(record.levelno) or record.levelname.lower(),
        }
        add_line_content(line, record, self.redactor)
        return _render_json(line)


class ConsoleFormatter(logging.Formatter):
    """For people (development): local time, level, logger, [request ID], event, then the
    fields as key=value; a traceback below. Colored only when the stream is a terminal."""

    def __init__(self, redactor: Redactor | None = None, *, color: bool = False) -> None:
        super().__init__()
        self.redactor = redactor or Redactor()
        self.color = color

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {}
        add_line_content(line, record, self.redactor)
        clock = datetime.fromtimestamp(record.created).strftime("%H:%M:%S.%f")[:-3]
        level = f"{record.levelname:<8}"
        logger = line.pop("logger")
        request_id = line.pop("request_id") or "-"
        event = line.pop("event")
        blocks = [str(line.pop(key)) for key in ("exception", "stack") if key in line]
        # None (no user, no client) says nothing a person needs to read.
        rest = " ".join(f"{key}={value}" for key, value in line.items() if value is not None)
        if self.color:
            level = f"{_COLORS.get(record.levelname, _COLOR_CRITICAL)}{level}{_RESET}"
            logger = f"{_DIM}{logger}{_RESET}"
            rest = f"{_DIM}{rest}{_RESET}" if rest else rest
        text = f"{clock} {level} {logger} [{request_id}] {event}"
        return "\n".join([f"{text} {rest}" if rest else text, *blocks])


class KitLogHandler(logging.StreamHandler[TextIO]):
    """The one handler `configure_logging` installs (marked by its class, so a second call
    replaces it instead of adding another). One write per line, and no flush call when the
    stream flushes at each newline itself (stderr does)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._write(self.format(record) + "\n")
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 (logging must never take the app down: stdlib's rule)
            self.handleError(record)

    def write_lines(self, lines: list[str]) -> None:
        """Already-formatted lines in one write (the access log's batches), under the handler's
        lock so no other line lands inside the batch."""
        with self.lock or nullcontext():
            try:
                self._write("\n".join(lines) + "\n")
            except RecursionError:
                raise
            except Exception:  # noqa: BLE001 (as in emit: a closed stream must not fail a request)
                # What Handler.handleError does without a record: report, carry on.
                if logging.raiseExceptions:
                    traceback.print_exc(file=sys.__stderr__)

    def _write(self, text: str) -> None:
        stream = self.stream
        stream.write(text)
        if not getattr(stream, "line_buffering", False):
            stream.flush()


def effective_log_format(settings: Settings) -> LogFormat:
    """Production always logs JSON: log collectors parse lines, and a console line would not."""
    if settings.environment is Environment.PRODUCTION:
        return "json"
    return settings.log_format


def build_formatter(settings: Settings, stream: TextIO) -> logging.Formatter:
    redactor = Redactor(settings.secret_values())
    if effective_log_format(settings) == "console":
        return ConsoleFormatter(redactor, color=stream.isatty())
    return JSONFormatter(redactor)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Owns the root logger: one handler on `stream` (stderr) for every logger. `log_level`
    is the level of the kit's loggers ("apiforge.*") and the service's (named after
    `settings.service_name`); other libraries log
    at INFO and above (their DEBUG output floods, and may carry bound parameters)."""
    # No line names its thread or process: LogRecord need not look them up (logging HOWTO,
    # "Optimization"), a third of its cost.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = KitLogHandler(stream or sys.stderr)
    handler.setFormatter(build_formatter(settings, handler.stream))
    root = logging.getLogger()
    for old in list(root.handlers):
        # Ours from an earlier call, or a plain stderr handler (basicConfig's): not JSON.
        if type(old) in (KitLogHandler, logging.StreamHandler):
            root.removeHandler(old)
    root.addHandler(handler)
    level = _LEVELS[settings.log_level]
    root.setLevel(max(level, logging.INFO))
    for name in THIRD_PARTY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    for name in (*SERVER_ACCESS_LOGGERS, *CHATTY_LOGGERS):
        logging.getLogger(name).setLevel(logging.WARNING)
    # The kit's loggers and the service's own (named after it, e.g. "notes.orders").
    for name in {KIT_LOGGER, settings.service_name}:
        own = logging.getLogger(name)
        own.handlers.clear()
        own.propagate = True
        own.setLevel(level)
    kit = logging.getLogger(KIT_LOGGER)
    if settings.log_format == "console" and effective_log_format(settings) == "json":
        kit.warning("log_format=console is ignored in production: logging JSON")
