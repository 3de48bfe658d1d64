"""`apiforge bench` end to end, briefly: it starts the baseline and the shop (on SQLite, migrated
and seeded), runs two tiny scenarios and writes the reports. One missing shop endpoint shows up
as errors, not as a crash."""

import json
import os
import shutil
import subprocess
import traceback
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apiforge.bench import defaults, launch
from apiforge.cli import app
from tests.bench.factories import document

CATALOG = """
description = "tiny reads"
connections = 4
duration = "1s"
warmup = "0s"
rate = 40
open_duration = "9s"
open_connections = 4
[background]
rate = 4
connections = 1
[[background.requests]]
name = "login"
method = "POST"
path = "/api/auth/login"
body = '{"email": "customer@example.com", "password": "{password}"}'
[[requests]]
name = "list"
path = "/api/products"
weight = 2
[[requests]]
name = "detail"
path = "/api/products/{id}"
ids = [1, 20]
"""

ORDERS = """
description = "tiny writes, and an endpoint the shop may lack"
auth = "customer"
connections = 2
duration = "1s"
warmup = "0s"
rate = 0
[setup]
restock = [1, 3]
orders = 2
[[requests]]
name = "order"
method = "POST"
path = "/api/orders"
body = '{"items": [{"product_id": {id}, "quantity": 1}]}'
ids = [1, 3]
[[requests]]
name = "missing"
path = "/api/no-such-endpoint"
"""

ORGANIZATION = """
description = "an organization's orders with its API key"
auth = "api_key"
connections = 2
duration = "1s"
warmup = "0s"
rate = 20
open_duration = "1s"
open_connections = 2
[setup]
restock = [1, 3]
organization_orders = 2
[[requests]]
name = "org_orders"
path = "/api/organizations/1/orders"
"""


def _wrk_or_open_loop_only() -> list[str]:
    if shutil.which("wrk") is not None:
        return []
    if os.environ.get("CI") == "true":
        pytest.fail("wrk is not installed (apt-get install wrk; `make bench` installs it)")
    return ["--no-closed-loop"]


def test_a_tiny_run_end_to_end(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "tiny_catalog.toml").write_text(CATALOG)
    (scenarios / "tiny_orders.toml").write_text(ORDERS)
    (scenarios / "tiny_org.toml").write_text(ORGANIZATION)
    out = tmp_path / "results"
    args = [
        "bench", "--scenarios-dir", str(scenarios), "--out", str(out), "--rounds", "1",
        "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}", "--redis-url", "",
        "--demo-password", "bench-demo-password", "--seed-products", "20", "--no-pin",
        "--open-duration", "1s",
        *_wrk_or_open_loop_only(),
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "## tiny_catalog:" in result.stdout

    catalog = json.loads(next(out.glob("*-tiny_catalog.json")).read_text())
    shop, baseline = catalog["targets"]["shop"], catalog["targets"]["baseline"]
    assert shop["open_loop"]["statuses"] == {"200": 40}
    assert shop["open_loop"]["per_endpoint"].keys() == {"list", "detail"}
    assert catalog["machine"]["pinning"] is False
    assert catalog["verdict"]["target"] == "shop"
    if catalog["settings"]["rounds"] and shop["rounds"]:
        assert shop["non_2xx"] == 0
        assert baseline["ratio_to_baseline"] == 1.0
        # 4 logins/s alongside the 1 s round, with the password from --demo-password.
        assert shop["background"]["sent"] == 4
        assert shop["background"]["errors"] == 0
        assert shop["ratio_to_baseline"] > 0
        # The shop's own cache counters, read from its /metrics around the round.
        (cache_note,) = [note for note in shop["notes"] if note.startswith("round 1 cache: ")]
        assert "front " in cache_note
        assert "front 0 hits / 0 misses" not in cache_note

    orders = json.loads(next(out.glob("*-tiny_orders.json")).read_text())
    shop = orders["targets"]["shop"]
    # Restocked and placed the set-up orders as the demo users: no set-up note (the rounds'
    # cache counts aside).
    assert [note for note in shop["notes"] if not note.startswith("round ")] == []
    if shop["rounds"]:
        # Every other request 404s on the shop (and on the baseline): errors, not a crash.
        assert shop["non_2xx"] > 0
        assert shop["rps"] > 0  # the orders went through
        assert orders["verdict"]["passed"] is False
    assert len(list(out.glob("*-summary.html"))) == 1

    organization = json.loads(next(out.glob("*-tiny_org.json")).read_text())
    shop = organization["targets"]["shop"]
    # Made the API key and the organization's orders (the rounds' cache counts aside).
    assert [note for note in shop["notes"] if not note.startswith("round ")] == []
    assert shop["open_loop"]["statuses"] == {"200": 20}


def test_an_unknown_scenario_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["bench", "nope", "--scenarios-dir", str(tmp_path), "--no-closed-loop"]
    )
    assert result.exit_code == 2
    assert "unknown scenario" in result.stderr


def test_the_baseline_can_be_a_second_shop_with_other_settings(tmp_path: Path) -> None:
    """How BENCHMARKS.md measures observability on against off in one run."""
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "tiny_catalog.toml").write_text(CATALOG)
    out = tmp_path / "results"
    args = [
        "bench", "--scenarios-dir", str(scenarios), "--out", str(out), "--rounds", "1",
        "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}", "--redis-url", "",
        "--demo-password", "bench-demo-password", "--seed-products", "20", "--no-pin",
        "--open-duration", "1s", "--no-closed-loop", "--otlp-sink",
        "--shop-env", "APIFORGE_TRACING__ENABLED=true",
        "--baseline-shop-env", "APIFORGE_ACCESS_LOG=false",
        "--baseline-shop-env", "APIFORGE_METRICS__ENABLED=false",
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + "".join(
        traceback.format_exception(result.exception)
    )

    catalog = json.loads(next(out.glob("*-tiny_catalog.json")).read_text())
    machine = catalog["machine"]
    assert machine["baseline"].startswith(
        "shop: APIFORGE_ACCESS_LOG=false APIFORGE_METRICS__ENABLED=false "
        "APIFORGE_TRACING__OTLP_ENDPOINT=http://127.0.0.1:"
    )
    assert machine["shop_env"].startswith("APIFORGE_TRACING__ENABLED=true")
    summary = next(out.glob("*-summary.md")).read_text()
    assert "The baseline is a second copy of the shop, on the same database, with other " in summary
    assert "settings (APIFORGE_ACCESS_LOG=false APIFORGE_METRICS__ENABLED=false" in summary
    for target in ("shop", "baseline"):
        # Both answer the shop's own routes, login included: both are the shop.
        assert catalog["targets"][target]["open_loop"]["statuses"] == {"200": 40}


def test_a_malformed_setting_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["bench", "--scenarios-dir", str(tmp_path), "--no-closed-loop", "--shop-env", "DEBUG=1"],
    )
    assert result.exit_code == 2
    assert "APIFORGE_NAME=VALUE" in result.stderr


def _recorded_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """`bench` in `tmp_path` with the run itself replaced by a recorded document: where the
    files land, without servers."""
    monkeypatch.chdir(tmp_path)
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "tiny_catalog.toml").write_text(CATALOG)
    monkeypatch.setattr(launch, "run_bench", lambda config, progress: [document()])
    return ["bench", "--scenarios-dir", str(scenarios), "--no-closed-loop"]


def test_results_land_in_an_ignored_directory_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, _recorded_run(monkeypatch, tmp_path))
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / defaults.RESULTS_DIR).glob("*-summary.html"))) == 1
    assert not (tmp_path / defaults.KEPT_RESULTS_DIR).exists()
    assert "--keep writes them into bench/results" in result.stdout


def test_keep_writes_into_the_committed_results(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, [*_recorded_run(monkeypatch, tmp_path), "--keep"])
    assert result.exit_code == 0, result.output
    kept = tmp_path / "bench" / "results"
    assert sorted(p.name.split("-", 1)[1] for p in kept.iterdir()) == [
        "catalog.json", "summary.html", "summary.md",
    ]  # fmt: skip
    assert not (tmp_path / defaults.RESULTS_DIR).exists()


def test_keep_and_out_are_exclusive(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    args = [*_recorded_run(monkeypatch, tmp_path), "--keep", "--out", "elsewhere"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "--keep writes into the committed results" in result.stderr


def test_git_ignores_the_default_results_but_not_the_kept_ones() -> None:
    repo = Path(__file__).parents[2]
    git = shutil.which("git")
    assert git is not None, "git is needed to check .gitignore"

    def ignored(path: Path) -> bool:
        done = subprocess.run(  # noqa: S603  # our own argv
            [git, "check-ignore", "--quiet", "--no-index", str(path / "x-summary.html")],
            cwd=repo, check=False,
        )  # fmt: skip
        assert done.returncode in {0, 1}, "not a git checkout"
        return done.returncode == 0

    assert ignored(defaults.RESULTS_DIR)
    assert not ignored(defaults.KEPT_RESULTS_DIR)
