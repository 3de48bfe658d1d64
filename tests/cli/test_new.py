"""`apiforge new NAME`: the generated service passes its own `make test` (ruff, mypy, its tests
on SQLite and PostgreSQL) and `make run` serves it with docs, metrics and health, so the
generator cannot rot. Refusals are one line."""

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from apiforge.bench.targets import free_port
from apiforge.cli.new import apiforge_requirement
from tests.cli.conftest import invoke
from tests.cli.servers import wait_for_ok

MAKE_TIMEOUT_SECONDS = 600


def _service_env() -> dict[str, str]:
    """The environment a user's shell has: no apiforge setting of ours (the test servers'
    URLs stay, for `apiforge services` to find them), nothing of this virtualenv."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("APIFORGE_", "NOTES_"))}
    keep = {k: v for k, v in keep.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    keep |= {k: v for k, v in os.environ.items() if k.startswith("APIFORGE_TEST_")}
    venv_bin = str(Path(sys.executable).parent)
    keep["PATH"] = os.pathsep.join(
        p for p in keep.get("PATH", "").split(os.pathsep) if p != venv_bin
    )
    return keep


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("new")
    code, out, err = invoke(["new", "notes", "--directory", str(folder / "notes")], {})
    assert code == 0, err
    assert "cd " in out
    return folder / "notes"


def test_the_generated_service_passes_its_own_make_test(notes: Path) -> None:
    done = subprocess.run(
        ["make", "test"],  # noqa: S607  # make from PATH, as a user runs it
        cwd=notes,
        env=_service_env(),
        capture_output=True,
        text=True,
        timeout=MAKE_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "All checks passed!" in done.stdout
    assert "Success: no issues found" in done.stdout
    (summary,) = re.findall(r"(\d+) passed", done.stdout)
    # Every database test on both backends: the rollback fixtures come from the kit.
    assert int(summary) >= 20
    assert "failed" not in done.stdout.splitlines()[-1]


def test_make_run_serves_it_with_docs_metrics_and_health(notes: Path) -> None:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603  # our own arguments
        ["make", "run", f"PORT={port}"],  # noqa: S607  # make from PATH, as a user runs it
        cwd=notes,
        env=_service_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        ready = wait_for_ok(f"{base}/health/ready", process)
        docs = httpx.get(f"{base}/docs", timeout=5)
        items = httpx.get(f"{base}/api/items", timeout=5)
        metrics = httpx.get(f"{base}/metrics", timeout=5)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    assert items.json() == {"items": [], "next_cursor": None}
    assert 'notes_http_requests_total{method="GET",route="/api/items",status="200"}' in metrics.text
    assert "Migrated sqlite+aiosqlite:///./notes.db to head." in output


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("name", ["Notes", "my-notes", "9lives", "apiforge", "tests"])
def test_a_name_that_is_not_a_package_name_is_one_line(name: str) -> None:
    code, out, err = invoke(["new", name], {})
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "is not a service name" in err


@pytest.mark.usefixtures("clean_env")
def test_an_existing_folder_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    code, _, err = invoke(["new", "notes"], {})
    assert code == 2
    assert err == "apiforge: notes exists; choose another name or --directory\n"
    assert list((tmp_path / "notes").iterdir()) == []


def test_the_requirement_names_where_apiforge_comes_from(tmp_path: Path) -> None:
    assert apiforge_requirement("redis", ">=0.2") == "apiforge[redis]>=0.2"
    assert apiforge_requirement("redis", "https://example.com/a.whl") == (
        "apiforge[redis] @ https://example.com/a.whl"
    )
    assert apiforge_requirement("redis", str(tmp_path)) == f"apiforge[redis] @ {tmp_path.as_uri()}"
    # This checkout is installed editable: a new service installs it from here.
    assert (
        apiforge_requirement("redis") == f"apiforge[redis] @ {Path(__file__).parents[2].as_uri()}"
    )
