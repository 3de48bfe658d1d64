"""House rules that are cheap to check mechanically (STYLE.md): small modules, pure-ASGI
middleware only, no print debugging, no module-level Settings()."""

import re
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "apiforge"
MAX_LINES = 500
# Modules allowed past MAX_LINES, each with the reason.
ALLOWED_LONG: dict[str, str] = {}

MODULES = sorted(p for p in SRC.rglob("*.py") if "migrations/versions" not in p.as_posix())


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_is_small(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    key = str(path.relative_to(SRC))
    assert lines <= MAX_LINES or key in ALLOWED_LONG, f"{key} has {lines} lines; split it"


def test_no_base_http_middleware() -> None:
    offenders = [p for p in MODULES if "starlette.middleware.base" in p.read_text()]
    assert offenders == []


def test_no_module_level_settings() -> None:
    # Any settings class: the kit's, a service's subclass, a section.
    pattern = re.compile(r"^\w+\s*(:[^=\n]+)?=\s*\w*Settings\(", re.MULTILINE)
    assert [p for p in MODULES if pattern.search(p.read_text())] == []


def test_only_settings_reads_the_environment() -> None:
    pattern = re.compile(r"os\.environ|os\.getenv")
    allowed = {
        "kit/settings/__init__.py",
        "kit/testing/services.py",
        "kit/testing/plugin.py",
        # PROMETHEUS_MULTIPROC_DIR, which prometheus_client reads in every worker.
        "kit/serving/metrics.py",
        # The factory a Granian worker wraps for --proxy-headers, and FORWARDED_ALLOW_IPS
        # (Uvicorn's variable, read the same way under both servers).
        "kit/serving/granian_server.py",
    }
    offenders = [
        str(p.relative_to(SRC))
        for p in MODULES
        if pattern.search(p.read_text()) and str(p.relative_to(SRC)) not in allowed
    ]
    assert offenders == []
