"""Multiprocess mode in one test process, for the metrics tests that need it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import values


@pytest.fixture
def multiproc_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """What `apiforge serve` arranges before a worker imports prometheus_client: metric values
    built from now on are written to files in the returned directory."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    # prometheus_client's multiprocess module is unannotated: the ignores below say so.
    monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue())  # type: ignore[no-untyped-call]
    try:
        yield tmp_path
    finally:
        values.close_all_multiprocess_files()  # type: ignore[no-untyped-call]
