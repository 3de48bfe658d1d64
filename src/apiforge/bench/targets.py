"""The processes the bench measures: the shop under `apiforge serve` and the baseline under
Uvicorn, each on a free port, optionally pinned to a core, stopped with their workers.

Settings reach the shop through a `.env` file in the server's own temporary working directory
(the shop reads `.env` from its cwd) rather than in argv, where a secret would show in `ps`;
the same names are unset from the inherited environment so a developer's shell cannot
override what is measured.
"""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from apiforge.bench.db_baseline import DSN_VARIABLE, POOL_VARIABLE, dsn_from_url
from apiforge.bench.defaults import pinned

BASELINE_FACTORY = "apiforge.bench.baseline:create_baseline_app"
DB_BASELINE_FACTORY = "apiforge.bench.db_baseline:create_db_baseline_app"
OTLP_SINK_APP = "apiforge.bench.otlp_sink:app"
SERVER_CORE = 0
LOAD_CORE = 1
READY_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def can_pin() -> bool:
    """Two usable cores and taskset: the server gets one, the load generator the other."""
    return shutil.which("taskset") is not None and len(os.sched_getaffinity(0)) >= 2


def with_settings(command: list[str], directory: Path, settings: dict[str, str]) -> list[str]:
    """Write `settings` to `directory/.env` (owner-only) and unset them from the inherited
    environment of `command`."""
    env_file = directory / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    env_file.chmod(0o600)
    unset = [arg for name in settings for arg in ("-u", name)]
    return ["env", *unset, *command]


def run_cli(args: list[str], settings: dict[str, str]) -> str:
    """`python -m apiforge ARGS` with `settings`; its output, or RuntimeError with it."""
    with tempfile.TemporaryDirectory(prefix="apiforge-bench-") as tmp:
        command = with_settings([sys.executable, "-m", "apiforge", *args], Path(tmp), settings)
        done = subprocess.run(command, cwd=tmp, capture_output=True, text=True, check=False)  # noqa: S603  # our own argv
    if done.returncode != 0:
        raise RuntimeError(f"apiforge {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@dataclass
class Server:
    """A server process group on 127.0.0.1:`port`; a context manager that waits until it
    answers HTTP and stops it (and its workers) on exit."""

    name: str
    command: list[str]
    settings: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    _process: subprocess.Popen[bytes] | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        """Launch the process without waiting for it (`ready()` waits)."""
        if self._process is not None:
            return self
        self._tmp = tempfile.TemporaryDirectory(prefix=f"apiforge-bench-{self.name}-")
        command = with_settings(self.command, Path(self._tmp.name), self.settings)
        self._log = Path(self._tmp.name) / "server.log"
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603  # our own argv
                command, cwd=self._tmp.name, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return self

    def ready(self) -> str:
        """Wait until it answers HTTP; its URL."""
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self.url

    def __enter__(self) -> Self:
        self.start().ready()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self._process is not None and self._process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
                try:
                    client.get("/api/categories")
                except httpx.TransportError:
                    time.sleep(0.1)
                    continue
                return
        raise RuntimeError(f"{self.name} did not answer in {READY_TIMEOUT_S:.0f} s")

    def log_tail(self, lines: int = 20) -> str:
        if not self._log.exists():
            return ""
        return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def baseline_server(core: int | None) -> Server:
    command = [
        sys.executable, "-m", "uvicorn", "--factory", BASELINE_FACTORY,
        "--host", "127.0.0.1", "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--no-server-header", "--log-level", "warning",
    ]  # fmt: skip
    server = Server("baseline", [])
    server.command = pinned([*command, "--port", str(server.port)], core)
    return server


def db_baseline_server(
    core: int | None, database_url: str, shop_settings: dict[str, str] | None = None
) -> Server:
    """The `db` baseline on the shop's database (its URL in the server's `.env`), with the
    shop's pool size when `shop_settings` set one."""
    command = [
        sys.executable, "-m", "uvicorn", "--factory", DB_BASELINE_FACTORY,
        "--host", "127.0.0.1", "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--no-server-header", "--log-level", "warning",
    ]  # fmt: skip
    settings = {DSN_VARIABLE: dsn_from_url(database_url)}
    if POOL_VARIABLE in (shop_settings or {}):
        settings[POOL_VARIABLE] = (shop_settings or {})[POOL_VARIABLE]
    server = Server("db-baseline", [], settings)
    server.command = pinned([*command, "--port", str(server.port)], core)
    return server


def otlp_sink_server(core: int | None) -> Server:
    """The span sink, on the load core: its CPU is the collector's, not the shop's."""
    command = [
        sys.executable, "-m", "uvicorn", OTLP_SINK_APP, "--host", "127.0.0.1",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    server = Server("otlp-sink", [])
    server.command = pinned([*command, "--port", str(server.port)], core)
    return server


WORKERS_SETTING = "APIFORGE_SERVER__WORKERS"


def shop_server(
    core: int | None,
    *,
    database_url: str,
    redis_url: str | None,
    workers: int = 1,
    name: str = "shop",
    extra_settings: dict[str, str] | None = None,
) -> Server:
    """`extra_settings` (APIFORGE_* names) override the defaults: the way one run compares two
    configurations of the same shop, e.g. observability on against off. Rate limits are off
    by default: all the bench's load comes from one address and a handful of principals,
    which any limit worth having would refuse (`APIFORGE_RATELIMIT__ENABLED=true` in
    `extra_settings` measures them)."""
    settings = {
        "APIFORGE_ENVIRONMENT": "production",
        "APIFORGE_SECRET_KEY": secrets.token_urlsafe(48),
        "APIFORGE_DATABASE_URL": database_url,
        "APIFORGE_LOG_LEVEL": "WARNING",
        "APIFORGE_RATELIMIT__ENABLED": "false",
    }
    if redis_url:
        settings["APIFORGE_REDIS_URL"] = redis_url
        # A key space of its own: every shop the bench starts begins with a cold cache, and
        # two shops of one run (or an earlier run's entries) never serve each other's.
        space = f"bench-{name}-{secrets.token_hex(4)}:cache"
        settings["APIFORGE_CACHE__KEY_PREFIX"] = f"{space}:"
        settings["APIFORGE_CACHE__CHANNEL"] = f"{space}:invalidations"
    settings.update(extra_settings or {})
    server = Server(name, [], settings)
    command = [sys.executable, "-m", "apiforge", "serve", "--port", str(server.port)]
    # A worker count in the settings wins over the run's (`--workers` would override it): one
    # run can then compare two workers against one.
    if WORKERS_SETTING not in settings:
        command += ["--workers", str(workers)]
    server.command = pinned(command, core)
    return server


def prepare_shop_database(database_url: str, *, products: int, demo_password: str) -> str:
    """Migrate and seed (seeding refuses production, so it runs as development on the same
    database before the production server starts). Returns the seed's report."""
    settings = {
        "APIFORGE_ENVIRONMENT": "development",
        "APIFORGE_DATABASE_URL": database_url,
        "APIFORGE_DEMO_PASSWORD": demo_password,
    }
    run_cli(["db", "upgrade"], settings)
    return run_cli(["db", "seed", "--products", str(products)], settings).strip()
