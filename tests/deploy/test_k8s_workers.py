"""deploy/k8s/workers: the job worker (which runs the outbox relay), the scheduler and the stock
feed consumer as Deployments of their own (schema validation is test_k8s.py's, over every
file): commands the CLI has, probes on the kit's worker probe port, a grace period over the
drain, locked-down pods, the API's image and configuration, and connections that still fit
PostgreSQL beside the API at its peak."""

from typing import Any

import pytest

from apiforge.kit import Settings
from tests.deploy import test_k8s as api_checks
from tests.deploy.command_line import parse_apiforge_args
from tests.deploy.manifests import (
    FAKE_SECRET_KEY,
    K8S,
    Document,
    find,
    kustomization_files,
    kustomization_objects,
    load_yaml,
    settings_from,
)
from tests.deploy.test_k8s import CONNECTION_HEADROOM, PG_MAX_CONNECTIONS, SHUTDOWN_MARGIN_SECONDS

WORKERS = kustomization_objects(K8S / "workers")
APP = kustomization_objects(K8S)
PROBE_PATHS = {"/health/live", "/health/ready"}


def _by_component(component: str) -> Document:
    [found] = [
        doc
        for doc in WORKERS
        if doc["kind"] == "Deployment"
        and doc["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]
    return found


def _container(workload: Document) -> dict[str, Any]:
    [container] = workload["spec"]["template"]["spec"]["containers"]
    result: dict[str, Any] = container
    return result


def _settings(workload: Document, monkeypatch: pytest.MonkeyPatch) -> Settings:
    config: dict[str, str] = find(APP, "ConfigMap")["data"]
    own = {item["name"]: item["value"] for item in _container(workload).get("env", [])}
    secret = {
        "APIFORGE_SECRET_KEY": FAKE_SECRET_KEY,
        "APIFORGE_DATABASE_URL": "postgresql+asyncpg://apiforge@postgres/apiforge",
        "APIFORGE_REDIS_URL": "redis://redis:6379/0",
        "APIFORGE_EVENTS__AMQP_URL": "amqp://apiforge:x@rabbitmq:5672/",
    }
    return settings_from(config | own | secret, monkeypatch)


def test_the_kustomization_lists_existing_files_and_the_api_image() -> None:
    assert all(path.is_file() for path in kustomization_files(K8S / "workers"))
    assert {doc["kind"] for doc in WORKERS} == {"Deployment"}
    images = load_yaml(K8S / "workers" / "kustomization.yaml")["images"]
    assert images == load_yaml(K8S / "kustomization.yaml")["images"]
    assert {_container(doc)["image"] for doc in WORKERS} <= {image["name"] for image in images}


def test_they_run_existing_commands() -> None:
    assert parse_apiforge_args(_container(_by_component("worker"))["args"]) == ["worker"]
    assert parse_apiforge_args(_container(_by_component("scheduler"))["args"]) == ["scheduler"]
    consumer = _container(_by_component("consumer"))["args"]
    assert parse_apiforge_args(consumer) == ["consume", "stock"]


def test_the_worker_relays_and_the_consumer_has_its_broker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No relay Deployment: on PostgreSQL with `events.embedded_relay` unset the worker runs
    the relay (kit.outbox.embedded.relays_here); the consumer reads the broker URL."""
    names = {doc["metadata"]["name"] for doc in WORKERS}
    assert names == {"apiforge-worker", "apiforge-scheduler", "apiforge-consumer"}
    worker = _settings(_by_component("worker"), monkeypatch)
    assert (worker.is_sqlite, worker.events.embedded_relay) == (False, None)
    consumer = _settings(_by_component("consumer"), monkeypatch)
    assert consumer.events.amqp_url is not None


@pytest.mark.parametrize("component", ["worker", "scheduler"])
def test_probes_use_the_worker_probe_port(component: str, monkeypatch: pytest.MonkeyPatch) -> None:
    workload = _by_component(component)
    container = _container(workload)
    settings = _settings(workload, monkeypatch)
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["health"] == settings.jobs.health_port
    for name in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = container[name]["httpGet"]
        assert probe["port"] == "health"
        assert probe["path"] in PROBE_PATHS
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    annotations = workload["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(settings.jobs.health_port)


def test_the_worker_gets_its_drain_before_sigkill(monkeypatch: pytest.MonkeyPatch) -> None:
    workload = _by_component("worker")
    drain = _settings(workload, monkeypatch).jobs.drain_timeout_seconds
    grace = workload["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= drain + SHUTDOWN_MARGIN_SECONDS


@pytest.mark.parametrize("component", ["worker", "scheduler", "consumer"])
def test_worker_pods_run_locked_down(component: str) -> None:
    api_checks.test_pods_run_locked_down(_by_component(component))


def test_connections_fit_beside_the_api_at_its_peak(monkeypatch: pytest.MonkeyPatch) -> None:
    api = _settings(find(APP, "Deployment"), monkeypatch)
    hpa = find(APP, "HorizontalPodAutoscaler")
    surge = find(APP, "Deployment")["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    api_connections = (hpa["spec"]["maxReplicas"] + surge) * api.server.workers * api.db.pool_size
    worker = _by_component("worker")
    assert worker["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0
    worker_connections = worker["spec"]["replicas"] * _settings(worker, monkeypatch).db.pool_size
    consumer = _by_component("consumer")
    assert consumer["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0
    consumer_settings = _settings(consumer, monkeypatch)
    consumer_connections = consumer["spec"]["replicas"] * (
        consumer_settings.db.pool_size + consumer_settings.db.max_overflow
    )
    # The scheduler only sends messages: it opens no database connection.
    total = api_connections + worker_connections + consumer_connections + CONNECTION_HEADROOM
    assert total <= PG_MAX_CONNECTIONS
