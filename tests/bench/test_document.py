"""The typed results read back from JSON unchanged: the committed files and a fresh run."""

import json
from pathlib import Path

import pytest

from apiforge.bench.document import ScenarioDocument
from tests.bench.factories import document

COMMITTED = sorted((Path(__file__).parents[2] / "bench" / "results").rglob("*.json"))


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_a_committed_file_reads_back_unchanged(path: Path) -> None:
    data = json.loads(path.read_text())
    assert ScenarioDocument.from_json(data).to_json() == data


def test_there_are_committed_files() -> None:
    assert len(COMMITTED) > 10


def test_a_fresh_document_survives_json() -> None:
    doc = document(fell_behind=True)
    again = ScenarioDocument.from_json(json.loads(json.dumps(doc.to_json())))
    assert again.to_json() == doc.to_json()
    assert again.verdict == doc.verdict  # judged on the open loop, both times
    assert again.targets["shop"].open_loop == doc.targets["shop"].open_loop
