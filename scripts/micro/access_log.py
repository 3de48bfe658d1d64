"""Cost of one access line, per request: the AccessLog observer's `request_finished` through the
whole logging pipeline to a real stream (/dev/null opened like a non-TTY stderr: text, line
buffered; or --file PATH), for each candidate, 32 requests finishing per event-loop
iteration. The issue asks for < 10 µs; Uvicorn's plain access log is measured for scale.

Run: .venv/bin/python scripts/micro/access_log.py [--file /tmp/access.log] [--number N] [--rounds N]
"""

import argparse
import asyncio
import importlib.util
import logging
import os
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, TextIO

import orjson
from pydantic import SecretStr
from uvicorn.logging import AccessFormatter

from apiforge.kit.access_log import ACCESS_LOGGER, AccessLog
from apiforge.kit.asgi import Scope
from apiforge.kit.logs import configure_logging, log_fields
from apiforge.kit.middleware.telemetry import route_template
from apiforge.kit.request_context import bind_request_id
from apiforge.kit.settings import Environment, Settings

Observer = Callable[[Scope, int, float], None]
# Requests finishing per event-loop iteration in the measurement (a loaded server finishes many).
BATCH = 32

SCOPE: Scope = {
    "type": "http",
    "method": "GET",
    "path": "/api/products/42",
    "http_version": "1.1",
    "query_string": b"",
    "client": ("10.1.2.3", 53124),
    "route": SimpleNamespace(path="/api/products/{product_id}"),
    "state": {"request_id": "0f3c9a2e5b1d4c1e9d7a2f6b8e4d1c00", "user_id": "42"},
}


def kit_pipeline(stream: TextIO, *, enabled: bool = True) -> Observer:
    """The chosen pipeline, exactly as production configures it."""
    settings = Settings(
        _env_file=None, environment=Environment.PRODUCTION, secret_key=SecretStr("s" * 40)
    )
    configure_logging(settings, stream)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET if enabled else logging.WARNING)
    return AccessLog().request_finished


def kit_per_line(stream: TextIO) -> Observer:
    """The same line through `logging` (a record, the handler's lock, one write per line): the
    path AccessLog takes when another handler is installed, and took before batching."""
    kit_pipeline(stream)
    logger = logging.getLogger(ACCESS_LOGGER)

    def observe(scope: Scope, status: int, duration: float) -> None:
        log_fields(logger, logging.INFO, "request", _fields(scope, status, duration), trusted=True)

    return observe


def kit_scanned(stream: TextIO) -> Observer:
    """The chosen pipeline with the access fields scanned for secrets anyway: what skipping
    the scan saves."""
    kit_pipeline(stream)
    logger = logging.getLogger(ACCESS_LOGGER)

    def observe(scope: Scope, status: int, duration: float) -> None:
        log_fields(logger, logging.INFO, "request", _fields(scope, status, duration))

    return observe


def first_version(stream: TextIO) -> Observer:
    """The first AccessLog: logger.info(extra=...) (with its caller lookup), isoformat()."""
    from datetime import UTC, datetime

    class Formatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            line: dict[str, object] = {
                "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname.lower(),
                "logger": record.name,
                "event": record.getMessage(),
                "request_id": "0f3c9a2e5b1d4c1e9d7a2f6b8e4d1c00",
            }
            line.update(record.__dict__["fields"])
            return orjson.dumps(line).decode()

    logger = _isolated_logger("bench.first", Formatter(), stream)

    def observe(scope: Scope, status: int, duration: float) -> None:
        logger.info("request", extra={"fields": _fields(scope, status, duration)})

    return observe


def structlog_native(binary: Any) -> Observer:
    """structlog's fastest set-up: its own BytesLogger and orjson renderer (stdlib libraries
    would then need a second pipeline for their lines)."""
    import structlog

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.BytesLoggerFactory(binary),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(request_id="0f3c9a2e5b1d4c1e9d7a2f6b8e4d1c00")
    logger = structlog.get_logger("apiforge.access")

    def observe(scope: Scope, status: int, duration: float) -> None:
        logger.info("request", logger="apiforge.access", **_fields(scope, status, duration))

    return observe


def structlog_stdlib(stream: TextIO) -> Observer:
    """structlog over stdlib logging (ProcessorFormatter): one pipeline for every library."""
    import structlog

    renderer = structlog.processors.JSONRenderer(serializer=lambda v, **_: orjson.dumps(v).decode())
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=[structlog.stdlib.add_log_level],
    )
    _isolated_logger("bench.structlog", formatter, stream)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(request_id="0f3c9a2e5b1d4c1e9d7a2f6b8e4d1c00")
    logger = structlog.get_logger("bench.structlog")

    def observe(scope: Scope, status: int, duration: float) -> None:
        logger.info("request", **_fields(scope, status, duration))

    return observe


def uvicorn_plain(stream: TextIO) -> Observer:
    """For scale: Uvicorn's own access line (its AccessFormatter, no colours)."""
    formatter = AccessFormatter(
        '%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False
    )
    logger = _isolated_logger("bench.uvicorn", formatter, stream)

    def observe(scope: Scope, status: int, duration: float) -> None:
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            f"{scope['client'][0]}:{scope['client'][1]}",
            scope["method"],
            scope["path"],
            scope["http_version"],
            status,
        )

    return observe


def _fields(scope: Scope, status: int, duration: float) -> dict[str, object]:
    client = scope.get("client")
    return {
        "method": scope["method"],
        "route": route_template(scope),
        "status": status,
        "duration_ms": round(duration * 1000, 3),
        "client": client[0] if client else None,
        "user_id": scope["state"].get("user_id"),
    }


def _isolated_logger(name: str, formatter: logging.Formatter, stream: TextIO) -> logging.Logger:
    # As these pipelines run by default (configure_logging turns the look-ups off for ours).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = True
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def measure(observe: Observer, number: int, per_iteration: int = BATCH) -> float:
    """CPU time of this process (not wall time): steadier on a shared machine. Inside an event
    loop, `per_iteration` requests finishing per loop iteration (what a loaded server does;
    the batched access log writes once per iteration), the same for every candidate."""

    async def run() -> float:
        started = time.process_time()
        for i in range(number):
            observe(SCOPE, 200, 0.001234)
            if i % per_iteration == per_iteration - 1:
                await asyncio.sleep(0)
        await asyncio.sleep(0)
        return time.process_time() - started

    return min(asyncio.run(run()) for _ in range(5)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=os.devnull, help="where lines go (default: /dev/null)")
    parser.add_argument("--number", type=int, default=20_000, help="calls per repeat")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all candidates")
    args = parser.parse_args()
    stream = open(args.file, "a", buffering=1)  # noqa: SIM115 (open for the whole run)
    binary = open(args.file, "ab")  # noqa: SIM115
    bind_request_id("0f3c9a2e5b1d4c1e9d7a2f6b8e4d1c00")

    def off(scope: Scope, status: int, duration: float) -> None:
        """No observer call at all is free; this is the cheapest installed one."""

    candidates: list[tuple[str, Callable[[], Observer]]] = [
        ("access log off (settings.access_log=false: no observer)", lambda: off),
        ("AccessLog, logger above INFO", lambda: kit_pipeline(stream, enabled=False)),
        (
            "kit AccessLog: orjson, batched per loop iteration (chosen)",
            lambda: kit_pipeline(stream),
        ),
        ("kit.logs through logging, one write per line", lambda: kit_per_line(stream)),
        ("stdlib + orjson, kit.logs, fields scanned for secrets", lambda: kit_scanned(stream)),
        ("stdlib + orjson, first version (logger.info)", lambda: first_version(stream)),
        ("structlog native (BytesLogger, orjson)", lambda: structlog_native(binary)),
        ("structlog over stdlib (ProcessorFormatter)", lambda: structlog_stdlib(stream)),
        ("uvicorn's plain access log (for scale)", lambda: uvicorn_plain(stream)),
    ]
    if importlib.util.find_spec("structlog") is None:  # the kit does not depend on it
        candidates = [(name, build) for name, build in candidates if "structlog" not in name]
        print("structlog is not installed: its candidates are skipped")
    best = dict.fromkeys((name for name, _ in candidates), float("inf"))
    # Rounds, each candidate in turn: a burst of load from elsewhere hits them all alike.
    for _ in range(args.rounds):
        for name, build in candidates:
            best[name] = min(best[name], measure(build(), args.number))
    print(
        f"CPU µs per access line ({args.file}; best of {args.rounds} rounds x 5 x {args.number}):"
    )
    for name, micros in best.items():
        print(f"  {name:<58} {micros:6.2f}")
    stream.close()
    binary.close()


if __name__ == "__main__":
    main()
