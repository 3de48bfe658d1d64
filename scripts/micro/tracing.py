"""Cost of tracing per request, in process: the kit's app on one route driven straight through
ASGI (no server, no client), with tracing off, on but not sampled (ratio 0), and on and sampled
(ratio 1; spans handed to a batch processor whose exporter discards them, so the figure is the
request path's cost, not a collector's). For the choice of instrumentation, FastAPI's native
`telemetry=` is measured on the same app and provider. Routes: a bare JSON answer, and one with
a SQLite query (one more span).

Run: .venv/bin/python scripts/micro/tracing.py [--number N] [--rounds N]
"""

import argparse
import asyncio
import statistics
import tempfile
from collections.abc import Sequence
from typing import Any

from asgi_drive import drive
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI, Request
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from pydantic import SecretStr
from sqlalchemy import text

import apiforge.kit.tracing.provider as provider_module
from apiforge.kit import Environment, Settings, app_state, create_app
from apiforge.kit.settings import TracingSettings
from apiforge.kit.tracing.instruments import instrument_engine
from apiforge.kit.tracing.provider import build_tracer_provider

# What a browser or API client sends, roughly: the layer reads several of these per request.
HEADERS = [
    (b"host", b"api.example.com"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari"),
    (b"accept", b"application/json"),
    (b"accept-encoding", b"gzip, deflate, br"),
    (b"accept-language", b"en-GB,en;q=0.9"),
    (
        b"authorization",
        b"Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo",
    ),
    (b"x-request-id", b"0f3c9a2e5b1d4c1e9d7a2f6b8e4d1c00"),
    (b"connection", b"keep-alive"),
]


class DiscardingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _router() -> APIRouter:
    router = APIRouter()

    @router.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    @router.get("/rows/{item_id}")
    async def read_row(item_id: int, request: Request) -> dict[str, int]:
        async with app_state(request.app).database.engine.connect() as conn:
            value = (await conn.execute(text("SELECT :n"), {"n": item_id})).scalar_one()
        return {"item": value}

    return router


def _app(database: str, tracing: dict[str, Any] | None) -> FastAPI:
    settings = Settings(
        _env_file=None,
        environment=Environment.PRODUCTION,
        secret_key=SecretStr("s" * 64),
        database_url=f"sqlite+aiosqlite:///{database}",
        access_log=False,  # measured on its own (access_log.py)
        tracing=TracingSettings(enabled=tracing is not None, **(tracing or {})),
    )
    return create_app(settings, routers=[_router()])


async def _measure(
    app: FastAPI, path: str, number: int, rounds: int, native: TracerProvider | None = None
) -> float:
    async with LifespanManager(app) as manager:
        if native is not None:
            # FastAPI's native telemetry on the same provider settings (private config dict:
            # acceptable in a measurement script, not in the kit).
            app._telemetry.update({"tracer_provider": native, "tracing": True})
            instrument_engine(app_state(app).database.engine, native)  # the same SQL spans
        await drive(manager.app, path, number // 10, headers=HEADERS)  # warm-up
        return statistics.median(
            [await drive(manager.app, path, number, headers=HEADERS) for _ in range(rounds)]
        )


async def main(number: int, rounds: int) -> None:
    provider_module.build_exporter = lambda settings: DiscardingExporter()  # measurement only
    with tempfile.TemporaryDirectory() as tmp:
        database = f"{tmp}/micro.db"
        for path in ("/items/1", "/rows/1"):
            off = await _measure(_app(database, None), path, number, rounds)
            variants = {
                "off": off,
                "ASGI, ratio 0": await _measure(
                    _app(database, {"sample_ratio": 0.0}), path, number, rounds
                ),
                "ASGI, ratio 1": await _measure(
                    _app(database, {"sample_ratio": 1.0}), path, number, rounds
                ),
            }
            native = build_tracer_provider(TracingSettings(sample_ratio=1.0), version="micro")
            variants["FastAPI native, ratio 1"] = await _measure(
                _app(database, None), path, number, rounds, native=native
            )
            native.shutdown()
            print(f"GET {path}")
            for name, micros in variants.items():
                print(f"  {name:<34} {micros:7.1f} µs/request  (+{micros - off:5.1f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.number, arguments.rounds))
