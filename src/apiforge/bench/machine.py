"""What a result was measured on: software versions and the machine (cores, CPU model)."""

import os
import platform
from importlib import metadata
from pathlib import Path

PACKAGES = ("fastapi", "starlette", "pydantic", "uvicorn", "sqlalchemy", "asyncpg", "httpx")


def versions(postgres: str | None = None, wrk: str | None = None) -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["postgres"] = postgres
    out["wrk"] = wrk
    return out


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(pinning: bool) -> dict[str, object]:
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "pinning": pinning,
    }
