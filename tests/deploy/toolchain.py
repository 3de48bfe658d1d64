"""The command-line tools the deploy checks drive (promtool, docker compose), found on PATH or
installed by scripts/tools.sh. Missing under CI=true is a failure, never a skip: a check that
did not run proves nothing."""

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.manifests import ROOT

TOOLS_SCRIPT = ROOT / "scripts" / "tools.sh"
INSTALL_TIMEOUT_SECONDS = 600


def _install_once() -> None:
    """Runs scripts/tools.sh under a lock, so xdist workers do not run apt-get side by side."""
    lock_path = Path(os.environ.get("TMPDIR", "/tmp")) / "apiforge-tools.lock"  # noqa: S108  # a lock file, not data
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(  # noqa: S603  # our own script
            ["bash", str(TOOLS_SCRIPT)],  # noqa: S607  # bash from PATH, as make runs it
            check=False,
            capture_output=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
        )


def _missing(what: str) -> None:
    message = f"{what} is missing: run `make tools` (scripts/tools.sh) to install it"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        _install_once()
        path = shutil.which("promtool")
    if path is None:
        _missing("promtool (Debian package prometheus)")
    assert path is not None
    return path


def _has_compose_plugin() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "compose", "version"],  # noqa: S607  # whichever docker is on PATH
        check=False,
        capture_output=True,
    )
    return probe.returncode == 0


def compose_command() -> list[str]:
    """`docker compose` (v2 plugin) where it exists, else `docker-compose` (Debian's v1, which
    validates the file against the Compose schema offline)."""
    for attempt in range(2):
        if _has_compose_plugin():
            return ["docker", "compose"]
        legacy = shutil.which("docker-compose")
        if legacy is not None:
            return [legacy]
        if attempt == 0:
            _install_once()
    _missing("docker compose (or Debian's docker-compose)")
    raise AssertionError("unreachable")
