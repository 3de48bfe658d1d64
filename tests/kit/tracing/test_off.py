"""Tracing off (the default) loads no OpenTelemetry SDK, exporter or instrumentation, and
adds no layer: checked in a fresh interpreter, since this test process has loaded them all.
(FastAPI >= 0.165 imports the OpenTelemetry *API* itself, for its native telemetry; that
much is loaded either way.)"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
import httpx
from asgi_lifespan import LifespanManager
from apiforge.kit import Environment, Settings, create_app

async def main():
    settings = Settings(
        _env_file=None,
        environment=Environment.TEST,
        database_url=f"sqlite+aiosqlite:///{sys.argv[2]}",
        tracing={"enabled": sys.argv[1] == "on", "exporter": "console"},
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/health/live")
    # The kit's tracing package itself is loaded (its public helpers import no OpenTelemetry);
    # its layer, runtime and provider modules are not.
    heavy = ("opentelemetry.sdk", "opentelemetry.instrumentation", "opentelemetry.exporter",
             "apiforge.kit.tracing.")
    print(json.dumps(sorted({m.split(".")[1] if m.startswith("opentelemetry") else m
                             for m in sys.modules if m.startswith(heavy)})))

import asyncio
asyncio.run(main())
"""


def _loaded(mode: str, tmp_path: Path) -> list[str]:
    database = str(tmp_path / "probe.db")
    done = subprocess.run(  # noqa: S603  # our own interpreter and script
        [sys.executable, "-c", PROBE, mode, database],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    ("mode", "expected_heavy"), [("off", False), ("on", True)], ids=["off", "on"]
)
def test_opentelemetry_sdk_is_loaded_only_when_on(
    mode: str, expected_heavy: bool, tmp_path: Path
) -> None:
    loaded = _loaded(mode, tmp_path)
    if expected_heavy:
        assert {"sdk", "instrumentation", "exporter", "apiforge.kit.tracing.runtime"} <= set(loaded)
    else:
        assert loaded == []
