"""deploy/k8s: every object validates against the Kubernetes schema (offline, the schemas
bundled by kubernetes-validate, strict: unknown fields fail), and the invariants a schema cannot
see hold: probes on the kit's real health routes, a grace period that covers the preStop pause
and the drain, non-root, selectors that match, connections within PostgreSQL's limit."""

import re
from pathlib import Path
from typing import Any

import kubernetes_validate.utils as kv  # type: ignore[import-untyped]  # ships no py.typed
import pytest
from pydantic import ValidationError

from apiforge.kit import Environment, Settings
from apiforge.kit.health.router import health_router
from tests.deploy.command_line import parse_apiforge_args
from tests.deploy.manifests import (
    FAKE_SECRET_KEY,
    K8S,
    Document,
    all_k8s_objects,
    find,
    kustomization_files,
    kustomization_objects,
    load_documents,
    load_yaml,
    settings_from,
)

# The oldest Kubernetes still commonly run and the newest whose schemas are bundled.
KUBERNETES_VERSIONS = ["1.29.0", kv.latest_version()]
OBJECTS = list(all_k8s_objects())
APP = kustomization_objects(K8S)
MIGRATE = kustomization_objects(K8S / "migrate")
# PostgreSQL's default max_connections; the arithmetic in config/configmap.yaml uses it.
PG_MAX_CONNECTIONS = 100
# Connections kept free for the migration Job, an operator and monitoring (`apiforge check`).
CONNECTION_HEADROOM = 5
# Seconds left between the end of the drain and SIGKILL (pools close, spans flush).
SHUTDOWN_MARGIN_SECONDS = 5
QUANTITY = re.compile(r"^\d+(\.\d+)?(m|Ki|Mi|Gi|k|M|G)?$")


def _pod_spec(workload: Document) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def _container(workload: Document) -> dict[str, Any]:
    containers: list[dict[str, Any]] = _pod_spec(workload)["containers"]
    assert len(containers) == 1
    return containers[0]


def _config() -> dict[str, str]:
    data: dict[str, str] = find(APP, "ConfigMap")["data"]
    return data


def _production_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    secret = {
        "APIFORGE_SECRET_KEY": FAKE_SECRET_KEY,
        "APIFORGE_DATABASE_URL": "postgresql+asyncpg://apiforge@postgres/apiforge",
    }
    return settings_from(_config() | secret, monkeypatch)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(
    ("path", "obj"),
    OBJECTS,
    ids=[f"{path.relative_to(K8S)}:{obj['kind']}" for path, obj in OBJECTS],
)
def test_object_validates_against_the_kubernetes_schema(
    path: Path, obj: Document, version: str
) -> None:
    kv.validate(obj, version, strict=True)


def test_manifests_carry_no_namespace() -> None:
    assert [obj["metadata"]["name"] for _, obj in OBJECTS if "namespace" in obj["metadata"]] == []


def test_kustomizations_list_existing_files_and_never_the_secret_template() -> None:
    for directory in (K8S, K8S / "migrate"):
        files = kustomization_files(directory)
        assert all(path.is_file() for path in files), files
        assert K8S / "secret.example.yaml" not in files
    assert {obj["kind"] for obj in APP} == {
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }
    assert {obj["kind"] for obj in MIGRATE} == {"ConfigMap", "Job"}


def test_both_kustomizations_deploy_the_same_image() -> None:
    app_images = load_yaml(K8S / "kustomization.yaml")["images"]
    migrate_images = load_yaml(K8S / "migrate" / "kustomization.yaml")["images"]
    assert app_images == migrate_images
    names = {image["name"] for image in app_images}
    assert _container(find(APP, "Deployment"))["image"] in names
    assert _container(find(MIGRATE, "Job"))["image"] in names


def test_secret_template_holds_placeholders_production_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (secret,) = load_documents(K8S / "secret.example.yaml")
    assert secret["kind"] == "Secret"
    values: dict[str, str] = secret["stringData"]
    assert "data" not in secret
    assert all("REPLACE-ME" in value for key, value in values.items() if "REDIS" not in key)
    # Applied by mistake, it could not start the service: the key is refused in production.
    with pytest.raises(ValidationError, match="APIFORGE_SECRET_KEY"):
        settings_from(_config() | values, monkeypatch)
    # Everything the pods read from the Secret is a real setting.
    settings_from(_config() | values | {"APIFORGE_SECRET_KEY": FAKE_SECRET_KEY}, monkeypatch)


def test_configmap_is_a_valid_production_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _production_settings(monkeypatch)
    assert settings.environment is Environment.PRODUCTION
    assert settings.log_format == "json"
    assert not settings.metrics_on_main_port
    assert settings.metrics.port is not None


def test_probes_use_the_kit_health_routes() -> None:
    routes = {getattr(route, "path", None) for route in health_router.routes}
    container = _container(find(APP, "Deployment"))
    ports = {port["name"] for port in container["ports"]}
    probes = {name: container[name] for name in ("startupProbe", "livenessProbe", "readinessProbe")}
    for probe in probes.values():
        assert probe["httpGet"]["path"] in routes
        assert probe["httpGet"]["port"] in ports
    # Liveness must not depend on the database: an outage would restart every pod.
    assert probes["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert probes["startupProbe"]["httpGet"]["path"] == "/health/live"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/health/ready"


def test_readiness_waits_longer_than_the_app_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _production_settings(monkeypatch)
    probe = _container(find(APP, "Deployment"))["readinessProbe"]
    assert probe["timeoutSeconds"] > settings.health.check_timeout_seconds


def _pre_stop_seconds(container: dict[str, Any]) -> int:
    pre_stop = container["lifecycle"]["preStop"]
    if "sleep" in pre_stop:
        return int(pre_stop["sleep"]["seconds"])
    command = pre_stop["exec"]["command"]
    assert command[0] == "sleep"
    assert len(command) == 2
    return int(command[1])


def test_grace_period_covers_pre_stop_and_drain(monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = find(APP, "Deployment")
    pre_stop = _pre_stop_seconds(_container(deployment))
    drain = _production_settings(monkeypatch).server.drain_timeout_seconds
    grace = _pod_spec(deployment)["terminationGracePeriodSeconds"]
    assert pre_stop >= 5, "endpoints need a few seconds to stop routing to the pod"
    assert grace >= pre_stop + drain + SHUTDOWN_MARGIN_SECONDS


@pytest.mark.parametrize("workload", [find(APP, "Deployment"), find(MIGRATE, "Job")])
def test_pods_run_locked_down(workload: Document) -> None:
    pod = _pod_spec(workload)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    container = _container(workload)
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    # The one writable path (temporary files, the multiprocess metric files) is a volume.
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]  # noqa: S108  # a mount path, not a file we open
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            assert QUANTITY.match(str(container["resources"][kind][resource]))
    env_from = {next(iter(source.values()))["name"] for source in container["envFrom"]}
    assert env_from == {"apiforge-config", "apiforge-secrets"}


def test_containers_run_existing_commands() -> None:
    assert parse_apiforge_args(_container(find(APP, "Deployment"))["args"]) == ["serve"]
    assert parse_apiforge_args(_container(find(MIGRATE, "Job"))["args"]) == ["db", "upgrade"]


def test_migration_job_runs_once_and_gives_up() -> None:
    job = find(MIGRATE, "Job")
    assert _pod_spec(job)["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] <= 3
    assert job["spec"]["activeDeadlineSeconds"] > 0


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def test_selectors_match_the_api_pods_and_only_them() -> None:
    deployment = find(APP, "Deployment")
    api_labels = deployment["spec"]["template"]["metadata"]["labels"]
    job_labels = find(MIGRATE, "Job")["spec"]["template"]["metadata"]["labels"]
    selectors = {
        "Deployment": deployment["spec"]["selector"]["matchLabels"],
        "Service": find(APP, "Service")["spec"]["selector"],
        "PodDisruptionBudget": find(APP, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
    }
    for kind, selector in selectors.items():
        assert _matches(selector, api_labels), kind
        assert not _matches(selector, job_labels), f"{kind} would select the migration pod"


def test_service_ports_name_container_ports() -> None:
    container_ports = {port["name"] for port in _container(find(APP, "Deployment"))["ports"]}
    for port in find(APP, "Service")["spec"]["ports"]:
        assert port["targetPort"] in container_ports


def test_hpa_scales_the_deployment_on_cpu() -> None:
    hpa = find(APP, "HorizontalPodAutoscaler")
    deployment = find(APP, "Deployment")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert target["apiVersion"] == deployment["apiVersion"]
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    # Utilisation is relative to the request: without one the HPA cannot act.
    assert "cpu" in _container(deployment)["resources"]["requests"]
    pdb = find(APP, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] < hpa["spec"]["minReplicas"]


def test_metrics_port_agrees_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _production_settings(monkeypatch).metrics.port
    deployment = find(APP, "Deployment")
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(port)
    assert annotations["prometheus.io/path"] == "/metrics"
    ports = {p["name"]: p["containerPort"] for p in _container(deployment)["ports"]}
    assert ports["metrics"] == port


def test_connections_fit_postgres_at_the_peak_of_a_rolling_update(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _production_settings(monkeypatch)
    hpa = find(APP, "HorizontalPodAutoscaler")
    surge = find(APP, "Deployment")["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    assert isinstance(surge, int), "a percentage surge makes the peak depend on the replica count"
    pods = hpa["spec"]["maxReplicas"] + surge
    per_process = settings.db.pool_size + settings.db.max_overflow
    connections = pods * settings.server.workers * per_process
    assert connections + CONNECTION_HEADROOM <= PG_MAX_CONNECTIONS
