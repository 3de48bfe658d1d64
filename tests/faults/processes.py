"""Servers a fault test owns, so it may stop, freeze, kill and restart them without touching the
shared ones: a throwaway PostgreSQL cluster (`initdb` + `pg_ctl`, on a spare port) and a Redis
(`redis-server`, no persistence). Every wait is bounded; `with` blocks always end the process.

A missing binary fails the test under CI=true and skips it elsewhere, with what to install.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from apiforge.bench.targets import free_port

START_TIMEOUT = 30.0


def require_binary(path: str | None, what: str) -> str:
    """`path` if it is there; else fail under CI=true, skip elsewhere."""
    if path is not None and os.access(path, os.X_OK):
        return path
    message = f"{what} is not installed (Debian: apt-get install {what.split()[0]})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _newest_pg_bin() -> str | None:
    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(f"{directory}/pg_ctl", os.X_OK):
            return directory
    found = shutil.which("pg_ctl")
    return str(Path(found).resolve().parent) if found else None


def wait_for_port(port: int, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class OwnedRedis:
    """`redis-server` on a spare loopback port, nothing saved. `pause()`/`resume()` are
    SIGSTOP/SIGCONT (a hung Redis: connections open, no answers); `kill()` is SIGKILL (Redis
    gone); `start()` again brings up an empty one on the same port."""

    def __init__(self, directory: Path) -> None:
        self.binary = require_binary(shutil.which("redis-server"), "redis-server")
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        command += ["--loglevel", "warning"]
        self.process = subprocess.Popen(  # noqa: S603  # a fixed command line
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port)

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError("redis-server is not running")
        self.process.send_signal(sig)

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        assert self.process is not None
        self.process.wait(timeout=10)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a stopped process cannot die otherwise
            self.process.kill()
            self.process.wait(timeout=10)


class OwnedPostgres:
    """A cluster of the test's own on a spare port: trusted loopback logins as `postgres`,
    durability off (test data). `stop()` (`-m fast`: backends are told to go, pooled
    connections die) and `start()` (returns once it accepts connections) restart it; the `with`
    block ends it with `-m immediate` and removes it.

    As root, the server runs as the `postgres` user, which cannot enter pytest's private
    temporary directory: the data directory is then a fresh one under the system's temp dir."""

    def __init__(self, directory: Path) -> None:
        pg_bin = _newest_pg_bin()
        self.bin = Path(require_binary(pg_bin and f"{pg_bin}/pg_ctl", "postgresql")).parent
        self.port = free_port()
        self._run_as: list[str] = []
        self._owned_dir: Path | None = None
        if os.geteuid() == 0:
            self._run_as = ["runuser", "-u", "postgres", "--"]
            self._owned_dir = Path(tempfile.mkdtemp(prefix="apiforge-faults-pg-"))
            shutil.chown(self._owned_dir, "postgres", "postgres")
            directory = self._owned_dir
        self.data = directory / "data"
        self.log = directory / "server.log"

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str, timeout: float = START_TIMEOUT + 10) -> None:
        command = [*self._run_as, str(self.bin / tool), *args]
        subprocess.run(command, check=True, timeout=timeout, capture_output=True)  # noqa: S603

    def _pg_ctl(self, action: str, *options: str) -> None:
        self._run(
            "pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-w",
            "-t", str(int(START_TIMEOUT)), *options,
        )  # fmt: skip

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\nfsync = off\nsynchronous_commit = off\n"
                "full_page_writes = off\nmax_connections = 300\n"
            )

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("stop", "-m", mode)

    def __enter__(self) -> Self:
        self.init()
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            if self._owned_dir is not None:
                shutil.rmtree(self._owned_dir, ignore_errors=True)
