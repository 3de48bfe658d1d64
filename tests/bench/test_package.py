"""The bench package as a whole: no tracker references in its code (they go stale and mean
nothing to a reader outside the tracker)."""

import re
from pathlib import Path

import apiforge.bench

PACKAGE = Path(apiforge.bench.__file__).parent
TRACKER_REFERENCE = re.compile(r"\bissues?\s*#?\d+", re.IGNORECASE)


def test_no_tracker_references_in_the_code() -> None:
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if TRACKER_REFERENCE.search(line)
    ]
    assert found == []
