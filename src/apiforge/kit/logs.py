"""Process-wide logging set-up: one JSON object per line (default, always in production) or a
human console format in development, each line carrying the request ID. Not for: the access
log or metrics (see the observability issue)."""

import logging
import sys
from datetime import UTC, datetime

import orjson

from apiforge.kit.request_context import current_request_id
from apiforge.kit.settings import Environment, Settings


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            "request_id": current_request_id(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


class ConsoleFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = current_request_id() or "-"
        return super().format(record)


def configure_logging(settings: Settings) -> None:
    console = (
        settings.log_format == "console" and settings.environment is not Environment.PRODUCTION
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ConsoleFormatter() if console else JSONFormatter())
    root = logging.getLogger("apiforge")
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    root.propagate = False
