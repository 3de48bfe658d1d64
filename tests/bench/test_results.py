"""A scenario's figures across targets: the `db` baseline is a second divisor, never the
target judged."""

from apiforge.bench.document import ScenarioDocument
from apiforge.bench.results import ScenarioResult, TargetRun
from tests.bench.factories import scenario, wrk_result


def test_the_shop_is_judged_and_divided_by_both_baselines() -> None:
    baseline = TargetRun("baseline", "http://b", rounds=[wrk_result(10_000, 5)])
    db = TargetRun("db", "http://d", rounds=[wrk_result(4_000, 9)])
    shop = TargetRun("shop", "http://s", rounds=[wrk_result(2_000, 20)])
    result = ScenarioResult.start(scenario(), 1, 1.0, 64, 1, 0.0)
    result.finish([baseline, db, shop])
    doc = result.document()
    assert doc.verdict is not None
    assert doc.verdict.target == "shop"
    assert doc.targets["shop"].ratio_to_baseline == 0.2
    assert doc.targets["shop"].ratio_to_db == 0.5
    assert doc.targets["db"].ratio_to_db is None
    assert doc.targets["baseline"].ratio_to_db == 2.5
    again = ScenarioDocument.from_json(doc.to_json())
    assert again.targets["shop"].ratio_to_db == 0.5
