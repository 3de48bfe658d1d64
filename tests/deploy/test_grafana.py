"""deploy/grafana: the dashboard is well-formed Grafana JSON (unique ids, panels on the
24-column grid without overlap, every query on the templated datasource, every variable it
uses defined), and the provisioning points where compose mounts the files."""

import json
import re
from typing import Any

from tests.deploy.manifests import DEPLOY, load_yaml

GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "apiforge.json"
GRID_COLUMNS = 24
BUILT_IN_VARIABLES = {"__rate_interval", "__interval", "__range"}


def _dashboard() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return dashboard


def _compose_mounts(service: str) -> dict[str, str]:
    volumes = load_yaml(DEPLOY / "compose.yaml")["services"][service]["volumes"]
    mounts = {}
    for volume in volumes:
        source, target = volume.split(":")[:2]
        mounts[source] = target
    return mounts


def test_dashboard_identity() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] == "apiforge-overview"
    assert dashboard["title"]
    assert isinstance(dashboard["schemaVersion"], int)


def test_panel_ids_are_unique_and_panels_fit_the_grid() -> None:
    panels = _dashboard()["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0
        assert grid["x"] + grid["w"] <= GRID_COLUMNS, panel["title"]
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area


def test_queries_use_the_datasource_variable_and_unique_refs() -> None:
    for panel in _dashboard()["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        refs = [target["refId"] for target in panel["targets"]]
        assert refs
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"]


def test_every_variable_used_is_defined() -> None:
    dashboard = _dashboard()
    defined = {variable["name"] for variable in dashboard["templating"]["list"]}
    used = set(re.findall(r"\$\{?(\w+)", json.dumps(dashboard["panels"])))
    assert used - BUILT_IN_VARIABLES <= defined


def test_dashboard_shows_red_pool_cache_and_loop_panels() -> None:
    titles = " / ".join(panel["title"].lower() for panel in _dashboard()["panels"])
    for subject in ("rate", "5xx", "p99", "in progress", "pool", "hit ratio", "loop lag", "build"):
        assert subject in titles, subject


def test_provisioned_datasource_is_the_compose_prometheus() -> None:
    (source,) = load_yaml(GRAFANA / "provisioning" / "datasources" / "prometheus.yaml")[
        "datasources"
    ]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    assert "prometheus" in load_yaml(DEPLOY / "compose.yaml")["services"]


def test_dashboard_provider_reads_where_compose_mounts_the_dashboards() -> None:
    (provider,) = load_yaml(GRAFANA / "provisioning" / "dashboards" / "apiforge.yaml")["providers"]
    mounts = _compose_mounts("grafana")
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
