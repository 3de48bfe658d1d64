"""The README's "Build your own service" runs as written: its service module and its commands,
in a fresh folder, end with the service serving (no step left to the reader's guesswork)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from apiforge.bench.targets import free_port
from tests.cli.servers import wait_for_ok

README = Path(__file__).parents[1] / "README.md"


def _section() -> str:
    text = README.read_text()
    start = text.index("## Build your own service")
    return text[start : text.index("\n## ", start + 1)]


def test_the_service_by_hand_migrates_and_serves(tmp_path: Path) -> None:
    section = _section()
    (module,) = re.findall(r"```python\n(.*?)```", section, re.S)
    (commands,) = re.findall(r"```bash\n(.*?)```", section, re.S)
    package = tmp_path / "notes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text(module)
    port = free_port()
    lines = [line.split("  #")[0].strip() for line in commands.strip().splitlines()]
    assert lines[-1].startswith("apiforge serve")
    script = "\n".join(["set -e", *lines[:-1], f"exec {lines[-1]} --port {port}"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APIFORGE_", "NOTES_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    server = subprocess.Popen(  # noqa: S603  # the README's own commands
        ["bash", "-c", script],  # noqa: S607
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = wait_for_ok(f"http://127.0.0.1:{port}/health/ready", server, within=90)
        notes = httpx.get(f"http://127.0.0.1:{port}/api/notes", timeout=5)
        anonymous = httpx.post(f"http://127.0.0.1:{port}/api/notes?body=hi", timeout=5)
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}
    assert notes.json() == []
    assert anonymous.status_code == 401
