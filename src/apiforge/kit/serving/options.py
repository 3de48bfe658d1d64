"""What a command line may override of `settings.server` when serving. Not for: the settings
themselves (kit.settings) or running a server (the server modules beside this one)."""

from dataclasses import dataclass
from typing import Literal

Backend = Literal["uvicorn", "granian"]


@dataclass(frozen=True)
class ServeOptions:
    """What a command line may override of `settings.server` (None: the setting's value)."""

    host: str | None = None
    port: int | None = None
    workers: int | None = None
    drain_timeout: float | None = None
    reload: bool = False
    # Off by default: trusting X-Forwarded-For from anyone lets clients spoof their address.
    proxy_headers: bool = False
    server: Backend | None = None
