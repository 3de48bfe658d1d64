"""The kit's serving pieces in process: the workers' shared metrics directory and its exporter,
and the supervisor's socket close and dead-worker sweep (real processes: tests/cli)."""

import signal
from pathlib import Path

import pytest
import uvicorn
from prometheus_client import Counter, values

from apiforge.bench.targets import free_port
from apiforge.kit.metrics.multiprocess import multiprocess_mode
from apiforge.kit.serving import Supervisor, shared_metrics
from apiforge.kit.settings import Environment, MetricsSettings, Settings
from tests.cli.servers import SLOW_APP, refuses_connections, scrape

# The signals Uvicorn's supervisor takes over (restored after the test that builds one).
SUPERVISOR_SIGNALS = [
    getattr(signal, f"SIG{name}")
    for name in ("INT", "TERM", "HUP", "QUIT", "TTIN", "TTOU", "USR1", "USR2", "WINCH")
]


@pytest.fixture
def restore_metrics_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """`shared_metrics` switches this process to multiprocess mode: undone after the test."""
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "unset-after-the-test")


@pytest.mark.usefixtures("restore_metrics_mode")
def test_shared_metrics_empties_its_directory_and_serves_the_sum(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    stale = directory / "counter_1.db"
    stale.write_bytes(b"stale")
    metrics_port = free_port()
    settings = Settings(
        _env_file=None,
        environment=Environment.TEST,
        metrics=MetricsSettings(port=metrics_port, multiproc_dir=str(directory)),
    )
    with shared_metrics(settings, "127.0.0.1") as prepared:
        assert prepared == directory
        assert not stale.exists()
        assert multiprocess_mode()
        # What a worker does: write its values to its own file in the directory.
        Counter("apiforge_serve_test_total", "A worker's count.", registry=None).inc(3)
        samples = scrape(metrics_port)
    assert samples[("apiforge_serve_test_total", frozenset())] == 3.0
    assert refuses_connections(metrics_port)  # the exporter stopped with the server
    assert directory.is_dir()  # configured: kept


@pytest.mark.usefixtures("restore_metrics_mode")
def test_shared_metrics_default_to_a_temporary_directory() -> None:
    settings = Settings(_env_file=None, environment=Environment.TEST)
    with shared_metrics(settings, "127.0.0.1") as prepared:
        assert prepared is not None
        assert prepared.name.startswith("apiforge-metrics-")
        assert prepared.is_dir()
    assert not prepared.exists()
    off = Settings(
        _env_file=None, environment=Environment.TEST, metrics=MetricsSettings(enabled=False)
    )
    with shared_metrics(off, "127.0.0.1") as nothing:
        assert nothing is None


def test_supervisor_stops_listening_and_forgets_dead_workers(tmp_path: Path) -> None:
    handlers = {sig: signal.getsignal(sig) for sig in SUPERVISOR_SIGNALS}
    try:
        config = uvicorn.Config(SLOW_APP, factory=True, workers=2, port=free_port())
        listening = config.bind_socket()
        # A live gauge file of a process that cannot exist (beyond any pid_max).
        dead = tmp_path / "gauge_livesum_999999999.db"
        dead.write_bytes(b"")
        supervisor = Supervisor(config, [listening], tmp_path)
        supervisor.keep_subprocess_alive()  # no worker changed: nothing swept
        assert dead.exists()
        supervisor.restart_all()
        assert not dead.exists()
        supervisor.handle_term()
        assert listening.fileno() == -1
        assert supervisor.should_exit.is_set()
        supervisor.handle_int()
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
