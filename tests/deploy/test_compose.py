"""deploy/compose.yaml: `docker compose config` accepts it (Debian's docker-compose v1 where
the v2 plugin is missing: both validate against the Compose schema offline), and the invariants
a schema cannot see hold: pinned images, dependencies that exist and order the migration before
the api, files that exist, a real configuration, nothing published beyond 127.0.0.1."""

import os
import subprocess
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy.command_line import parse_apiforge_args
from tests.deploy.manifests import DEPLOY, FAKE_SECRET_KEY, ROOT, load_yaml, settings_from
from tests.deploy.toolchain import compose_command

COMPOSE = DEPLOY / "compose.yaml"
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
APIFORGE_IMAGE = "apiforge:local"


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = load_yaml(COMPOSE)
    return compose


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def _run_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  # the compose CLI on our own file
        [*compose_command(), "-f", str(COMPOSE), "config", "-q"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("APIFORGE_", "COMPOSE_"))}


def test_compose_config_accepts_the_file() -> None:
    result = _run_config(_base_env() | {"APIFORGE_SECRET_KEY": FAKE_SECRET_KEY})
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_a_secret_key() -> None:
    result = _run_config(_base_env())
    assert result.returncode != 0
    assert "APIFORGE_SECRET_KEY" in result.stderr


def test_images_are_pinned_or_built() -> None:
    for name, service in _services().items():
        image = service["image"]
        if "build" in service:
            assert image == APIFORGE_IMAGE, name
            assert (DEPLOY / service["build"]["context"]).resolve() == ROOT
            assert (ROOT / service["build"]["dockerfile"]).is_file(), name
            continue
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image} has no tag"
        assert tag not in {"", "latest"}, f"{name}: {image} is not pinned"


def test_dependencies_exist_and_wait_for_health_where_asked() -> None:
    services = _services()
    for name, service in services.items():
        for target, spec in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            assert spec["condition"] in CONDITIONS
            if spec["condition"] == "service_healthy":
                check = services[target].get("healthcheck", {})
                assert check.get("test"), target
                assert not check.get("disable"), target


def test_migration_completes_before_the_api_starts() -> None:
    services = _services()
    assert services["api"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    migrate = services["migrate"]
    assert parse_apiforge_args(migrate["command"]) == ["db", "upgrade"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"


def test_services_run_existing_commands_and_events_wait_for_their_profile() -> None:
    """A plain `up` starts the api and its background processes; the stock feed consumer and
    RabbitMQ only with `--profile events`."""
    started: list[str] = []
    events: list[str] = []
    for name, service in _services().items():
        if service["image"] != APIFORGE_IMAGE:
            continue
        parse_apiforge_args(service.get("command", ["serve"]))
        (events if service.get("profiles") else started).append(name)
    assert sorted(started) == ["api", "migrate", "scheduler", "worker"]
    assert events == ["consumer"]
    consumer = _services()["consumer"]
    assert parse_apiforge_args(consumer["command"]) == ["consume", "stock"]
    assert consumer["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert _services()["rabbitmq"]["profiles"] == ["events"]


def _environment(service: str, **exported: str) -> dict[str, str]:
    """A service's environment as compose interpolates it, with `exported` variables set."""
    values = {"POSTGRES_PASSWORD": "apiforge", "APIFORGE_EVENTS__AMQP_URL": "", **exported}
    environment: dict[str, str] = {}
    for name, value in _services()[service]["environment"].items():
        if name == "APIFORGE_SECRET_KEY":
            continue
        for variable, given in values.items():
            value = value.replace(f"${{{variable}:-apiforge}}", given or "apiforge")
            value = value.replace(f"${{{variable}:-}}", given)
        assert "${" not in value, f"{service}: {name} not interpolated by this test"
        environment[name] = value
    return environment | {"APIFORGE_SECRET_KEY": FAKE_SECRET_KEY}


def test_the_worker_relays_to_rabbitmq_only_with_the_events_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker runs the outbox relay (PostgreSQL: kit.outbox.embedded); it publishes to the
    broker only when the profile's URL is exported, and the consumer reads the same one."""
    plain = settings_from(_environment("worker"), monkeypatch)
    assert not plain.is_sqlite
    assert plain.events.embedded_relay is None  # unset: the worker relays on PostgreSQL
    assert plain.events.amqp_url is None
    url = "amqp://apiforge:apiforge@rabbitmq:5672/"
    for service in ("worker", "consumer"):
        events = settings_from(_environment(service, APIFORGE_EVENTS__AMQP_URL=url), monkeypatch)
        assert events.events.amqp_url is not None
        target = urlsplit(events.events.amqp_url.get_secret_value())
        assert target.hostname == "rabbitmq"
        assert target.hostname in _services()
    rabbit = _services()["rabbitmq"]["environment"]
    assert rabbit["RABBITMQ_DEFAULT_USER"] == "apiforge"


def test_the_worker_and_scheduler_probe_their_own_port_and_outlast_the_drain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = _services()
    settings = settings_from(_environment("worker"), monkeypatch)
    assert settings.jobs_broker == "redis"
    for name in ("worker", "scheduler"):
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{settings.jobs.health_port}/health/" in probe, name
    grace = int(services["worker"]["stop_grace_period"].removesuffix("s"))
    assert grace > settings.jobs.drain_timeout_seconds


def test_apiforge_environment_is_a_valid_production_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_from(_environment("api"), monkeypatch)
    assert not settings.metrics_on_main_port
    # The api gets longer than the drain to stop before docker kills it.
    grace = int(_services()["api"]["stop_grace_period"].removesuffix("s"))
    assert grace > settings.server.drain_timeout_seconds
    # Prometheus scrapes the metrics port of the api service.
    (job,) = [
        job
        for job in load_yaml(DEPLOY / "prometheus" / "prometheus.yml")["scrape_configs"]
        if job["job_name"] == "apiforge"
    ]
    (discovery,) = job["dns_sd_configs"]
    assert discovery["names"] == ["api"]
    assert discovery["port"] == settings.metrics.port
    # Spans go to the collector service on its OTLP/HTTP port.
    endpoint = urlsplit(settings.tracing.otlp_endpoint)
    assert endpoint.hostname in _services()
    http = load_yaml(DEPLOY / "otel-collector.yaml")["receivers"]["otlp"]["protocols"]["http"]
    assert endpoint.port == int(http["endpoint"].rpartition(":")[2])


def test_mounted_files_exist_and_named_volumes_are_declared() -> None:
    declared = set(_compose().get("volumes", {}))
    for name, service in _services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: {source} missing"
            else:
                assert source in declared, f"{name}: volume {source} not declared"


def test_only_loopback_ports_are_published_and_never_metrics() -> None:
    for name, service in _services().items():
        for port in service.get("ports", []):
            host, _, rest = str(port).partition(":")
            assert host == "127.0.0.1", f"{name} publishes {port} on every interface"
            assert not rest.startswith("9100"), f"{name} publishes the metrics port"
