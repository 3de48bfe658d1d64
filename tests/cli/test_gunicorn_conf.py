"""deploy/gunicorn.conf.py, run for real: Gunicorn with two Uvicorn workers serving the shop on a
scratch PostgreSQL database, configured by APIFORGE_* settings alone. It serves reads and
writes, sums both workers' metrics on the metrics port, logs only JSON, drops the dead workers'
live gauges and exits 0 on SIGTERM. The drain itself: test_shutdown.py."""

import subprocess
import sys
from pathlib import Path

import httpx

from apiforge.bench.targets import free_port
from tests.cli.conftest import PRODUCTION_KEY
from tests.cli.servers import gunicorn_command, running, scrape, wait_for
from tests.live_server import SEED_SCRIPT, login, scratch_database

REQUESTS = 40
ROUTE = frozenset({"method": "GET", "route": "/api/products/{product_id}", "status": "200"}.items())


def _count(port: int) -> float:
    return scrape(port).get(("apiforge_http_requests_total", ROUTE), 0.0)


def test_gunicorn_serves_the_shop_and_stops_on_sigterm(
    clean_env: dict[str, str], postgres_admin: str, tmp_path: Path
) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port, metrics_port = free_port(), free_port()
    with scratch_database("postgres", tmp_path, postgres_admin) as url:
        seed_env = clean_env | {"APIFORGE_ENVIRONMENT": "test", "APIFORGE_DATABASE_URL": url}
        subprocess.run(  # noqa: S603  # our own interpreter and script
            [sys.executable, "-c", SEED_SCRIPT], env=seed_env, check=True, timeout=120
        )
        env = clean_env | {
            "APIFORGE_ENVIRONMENT": "production",
            "APIFORGE_SECRET_KEY": PRODUCTION_KEY,
            "APIFORGE_DATABASE_URL": url,
            "APIFORGE_SERVER__PORT": str(port),
            "APIFORGE_SERVER__WORKERS": "2",
            "APIFORGE_DB__POOL_SIZE": "4",
            "APIFORGE_METRICS__PORT": str(metrics_port),
            "APIFORGE_METRICS__MULTIPROC_DIR": str(metrics_dir),
        }
        with running(gunicorn_command(), env, tmp_path / "gunicorn.log", port) as server:
            headers = login(server.base_url, "customer@example.com")
            order = httpx.post(
                f"{server.base_url}/api/orders",
                json={"items": [{"product_id": 2, "quantity": 1}]},
                headers=headers,
                timeout=10,
            )
            for _ in range(REQUESTS):  # fresh connections: spread over both workers
                response = httpx.get(f"{server.base_url}/api/products/1", timeout=10)
                assert response.status_code == 200
            assert wait_for(lambda: _count(metrics_port) >= REQUESTS, within=10)
            samples = scrape(metrics_port)
            live_gauges = list(metrics_dir.glob("gauge_live*.db"))
            code = server.stop()

    assert order.status_code == 201
    assert samples[("apiforge_http_requests_total", ROUTE)] == REQUESTS
    assert len([key for key in samples if key[0] == "apiforge_build_info"]) == 2
    assert code == 0
    events = server.events()  # every line JSON: Gunicorn's, Uvicorn's and ours
    assert "Shutting down: Master" in events
    assert events.count("Application shutdown complete.") == 2
    # child_exit dropped each dead worker's live gauges; their counters stay.
    assert live_gauges
    assert list(metrics_dir.glob("gauge_live*.db")) == []
    assert list(metrics_dir.glob("counter_*.db"))
