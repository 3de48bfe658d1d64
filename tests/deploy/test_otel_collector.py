"""deploy/otel-collector.yaml: every pipeline names components that are configured, the memory
limiter comes first, and the exporter reaches a compose service. (No collector binary here to
validate it: its own `validate` command would.)"""

from typing import Any
from urllib.parse import urlsplit

from tests.deploy.manifests import DEPLOY, load_yaml

SECTIONS = {"receivers": "receivers", "processors": "processors", "exporters": "exporters"}


def _config() -> dict[str, Any]:
    config: dict[str, Any] = load_yaml(DEPLOY / "otel-collector.yaml")
    return config


def test_pipelines_use_configured_components() -> None:
    config = _config()
    pipelines = config["service"]["pipelines"]
    assert set(pipelines) == {"traces"}
    for pipeline in pipelines.values():
        for key, section in SECTIONS.items():
            assert pipeline[key], key
            assert set(pipeline[key]) <= set(config[section]), key
    assert set(config["service"]["extensions"]) <= set(config["extensions"])


def test_memory_limiter_runs_first() -> None:
    assert _config()["service"]["pipelines"]["traces"]["processors"][0] == "memory_limiter"


def test_exporter_reaches_a_compose_service() -> None:
    services = load_yaml(DEPLOY / "compose.yaml")["services"]
    for name, exporter in _config()["exporters"].items():
        if name.startswith("otlp"):
            host = urlsplit(f"//{exporter['endpoint']}").hostname
            assert host in services, name
