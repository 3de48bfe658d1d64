"""deploy/Dockerfile, checked without an engine: every file it copies exists and passes the root
.dockerignore; it starts an installed console script in exec form with arguments the CLI takes;
the final stage runs as the same non-root user as the Kubernetes pods, with a HEALTHCHECK on the
kit's liveness route; only runtime extras are installed, with the Makefile's uv."""

import json
import re
import tomllib
from typing import Any

import pytest

from apiforge.kit.health.router import health_router
from tests.deploy.command_line import parse_apiforge_args
from tests.deploy.dockerfile import DockerIgnore, Stage, stages
from tests.deploy.manifests import DEPLOY, K8S, ROOT, find, kustomization_objects

DOCKERFILE = DEPLOY / "Dockerfile"
RUNTIME_EXTRAS = {"postgres", "redis", "tracing", "gunicorn"}
NEVER_IN_THE_IMAGE = {"dev", "bench"}
API_PORT = 8000


def _parsed() -> tuple[dict[str, str], list[Stage]]:
    return stages(DOCKERFILE.read_text())


def _final() -> Stage:
    return _parsed()[1][-1]


def _ignore() -> DockerIgnore:
    return DockerIgnore.parse((ROOT / ".dockerignore").read_text())


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_dockerignore_matching_follows_docker_rules() -> None:
    ignore = DockerIgnore.parse("*\n!src/\n**/__pycache__\n!keep/**/*.txt\n")
    assert ignore.included("src/apiforge/__init__.py")
    assert not ignore.included("src/apiforge/__pycache__/app.cpython-311.pyc")
    assert not ignore.included(".env")
    assert not ignore.included("tests/conftest.py")
    assert ignore.included("keep/a/b.txt")
    assert not ignore.included("keep/a/b.py")


def test_build_context_leaves_out_local_state() -> None:
    ignore = _ignore()
    for path in (".env", ".git/HEAD", ".venv/bin/python", ".services/env", "apiforge.db"):
        assert not ignore.included(path), path
    assert ignore.included("src/apiforge/cli/__init__.py")


def test_multi_stage_on_one_slim_python_base() -> None:
    args, all_stages = _parsed()
    assert len(all_stages) >= 2
    bases = {stage.base for stage in all_stages}
    assert bases == {"${PYTHON_IMAGE}"}, "one base: the venv's interpreter link must resolve"
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", args["PYTHON_IMAGE"])
    names = [stage.name for stage in all_stages]
    for stage in all_stages:
        for copy in stage.all("COPY"):
            flags, _ = copy.flags_and_words()
            if "from" in flags:
                assert flags["from"] in names[: names.index(stage.name)], copy.arguments


def test_copied_sources_exist_in_the_build_context() -> None:
    ignore = _ignore()
    sources = []
    for stage in _parsed()[1]:
        for instruction in [*stage.all("COPY"), *stage.all("ADD")]:
            flags, words = instruction.flags_and_words()
            if "from" in flags:
                continue
            sources.extend(words[:-1])
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"{source} is not in the repository"
        assert ignore.files_in_context(ROOT, source), f"{source} is excluded by .dockerignore"


def test_final_stage_holds_the_venv_from_the_builder_and_the_gunicorn_config() -> None:
    final = _final()
    copies = [c.flags_and_words() for c in final.all("COPY")]
    assert copies == [
        ({"from": "builder"}, ["/opt/venv", "/opt/venv"]),
        ({}, ["deploy/gunicorn.conf.py", "/app/gunicorn.conf.py"]),
    ]
    assert not final.all("ADD")


def test_only_runtime_extras_are_installed_at_locked_versions() -> None:
    builder = _parsed()[1][0]
    installs = [i.arguments for i in builder.all("RUN") if "uv pip install" in i.arguments]
    extras = set(re.findall(r"--extra (\w+)", " ".join(installs)))
    declared = set(_pyproject()["project"]["optional-dependencies"])
    assert extras == RUNTIME_EXTRAS
    assert extras <= declared
    assert not extras & NEVER_IN_THE_IMAGE
    assert "-c requirements.lock" in installs[0]


def test_uv_is_the_makefile_version() -> None:
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^UV_VERSION := (\S+)", makefile, re.MULTILINE)
    assert match is not None
    assert f'"uv=={match.group(1)}"' in DOCKERFILE.read_text()


def test_entrypoint_is_an_installed_console_script_in_exec_form() -> None:
    final = _final()
    entrypoint = final.last("ENTRYPOINT").exec_form()
    command = final.last("CMD").exec_form()
    assert entrypoint == ["apiforge"]
    assert entrypoint[0] in _pyproject()["project"]["scripts"]
    assert parse_apiforge_args(command) == ["serve"]
    # Served on every interface of the container, on the port the probes use.
    assert command[command.index("--host") + 1] == "0.0.0.0"  # noqa: S104  # inside a container
    assert int(command[command.index("--port") + 1]) == API_PORT
    assert final.last("STOPSIGNAL").arguments == "SIGTERM"


def test_runs_as_the_same_non_root_user_as_the_pods() -> None:
    user = _final().last("USER").arguments
    uid, _, gid = user.partition(":")
    assert uid.isdigit(), "a numeric UID, so that runAsNonRoot can verify it"
    assert int(uid) != 0
    workloads = [
        *[o for o in kustomization_objects(K8S) if o["kind"] == "Deployment"],
        *[o for o in kustomization_objects(K8S / "migrate") if o["kind"] == "Job"],
    ]
    for workload in workloads:
        context = workload["spec"]["template"]["spec"]["securityContext"]
        assert context["runAsUser"] == int(uid)
        assert context["runAsGroup"] == int(gid)


def test_healthcheck_probes_liveness_with_the_interpreter() -> None:
    healthcheck = _final().last("HEALTHCHECK").arguments
    _, _, command = healthcheck.partition("CMD ")
    words = [str(word) for word in json.loads(command)]
    assert words[0] == "python"
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/[\w/]+)", words[-1])
    assert url is not None
    routes = {getattr(route, "path", None) for route in health_router.routes}
    assert int(url.group(1)) == API_PORT
    assert url.group(2) in routes
    assert url.group(2) == "/health/live"


@pytest.mark.parametrize("variable", ["PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"])
def test_python_runs_unbuffered_without_writing_bytecode(variable: str) -> None:
    assert variable in " ".join(i.arguments for i in _final().all("ENV")).split()


def test_exposes_the_api_and_metrics_ports() -> None:
    exposed = {int(port) for i in _final().all("EXPOSE") for port in i.arguments.split()}
    metrics_port = int(
        find(kustomization_objects(K8S), "ConfigMap")["data"]["APIFORGE_METRICS__PORT"]
    )
    assert exposed == {API_PORT, metrics_port}
