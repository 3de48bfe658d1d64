"""Scenario files: the shipped ones parse and validate; mistakes are refused with a reason."""

from collections import Counter
from pathlib import Path

import pytest
from pydantic import ValidationError

from apiforge.bench.scenario import (
    Scenario,
    discover,
    expand,
    load_scenario,
    parse_duration,
    weighted_mix,
)

SCENARIOS = Path(__file__).parents[2] / "bench" / "scenarios"
SHIPPED = {
    "catalog", "auth_mix", "checkout", "my_orders", "dashboard", "login", "catalog_256",
    "catalog_logins", "product_list", "product_detail",
}  # fmt: skip


def test_every_shipped_scenario_validates() -> None:
    scenarios = {s.name: s for s in discover(SCENARIOS)}
    assert set(scenarios) >= SHIPPED
    assert scenarios["auth_mix"].auth == "customer"
    assert [r.weight for r in scenarios["auth_mix"].requests] == [3, 2, 1]
    assert scenarios["catalog"].slo.p99_ms == 200
    assert scenarios["checkout"].setup.restock == (1, 50)
    assert scenarios["my_orders"].setup.orders == 20
    assert scenarios["catalog_256"].connections == 256
    background = scenarios["catalog_logins"].background
    assert background is not None
    assert background.rate == 50  # a login flood
    for scenario in scenarios.values():
        assert scenario.rate > 0, scenario.name


@pytest.mark.parametrize(
    ("text", "seconds"), [("10s", 10.0), ("500ms", 0.5), ("1m", 60.0), ("3", 3.0), (2, 2.0)]
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_a_bad_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("ten seconds")


def _scenario(**overrides: object) -> Scenario:
    data: dict[str, object] = {"name": "x", "requests": [{"name": "a", "path": "/api/a"}]}
    return Scenario.model_validate(data | overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"typo": 1}, "Extra inputs are not permitted"),
        ({"requests": []}, "at least 1 item"),
        ({"requests": [{"name": "a", "path": "/a"}, {"name": "a", "path": "/b"}]}, "unique"),
        ({"requests": [{"name": "a", "path": "/a", "ids": [5, 1]}]}, "ids must be"),
        ({"requests": [{"name": "a", "path": "no-slash"}]}, "should match pattern"),
        ({"requests": [{"name": "a", "path": "/a", "method": "TRACE"}]}, "Input should be"),
        ({"slo": {"p99_ms": 0}}, "greater than 0"),
        ({"auth": "admin"}, "Input should be"),
    ],
)
def test_mistakes_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _scenario(**overrides)


def test_the_file_name_is_the_default_name(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text('duration = "1s"\n[[requests]]\nname = "a"\npath = "/api/a"\n')
    scenario = load_scenario(path)
    assert scenario.name == "tiny"
    assert scenario.duration == 1.0
    with pytest.raises(ValueError, match="unknown scenario"):
        discover(tmp_path, ["tiny", "nope"])


def test_templates_are_filled_reproducibly() -> None:
    spec = _scenario(
        requests=[
            {
                "name": "order",
                "method": "POST",
                "path": "/api/products/{id}?q={term}",
                "body": '{"product_id": {id}}',
                "ids": [3, 5],
                "terms": ["a", "b"],
            }
        ]
    ).requests[0]
    variants = expand(spec, count=10)
    assert variants == expand(spec, count=10)
    for v in variants:
        product_id = int(v.path.split("/")[3].split("?")[0])
        assert 3 <= product_id <= 5
        assert v.body == f'{{"product_id": {product_id}}}'
    assert {v.path.rsplit("=", 1)[1] for v in variants} == {"a", "b"}


def test_the_mix_follows_the_weights() -> None:
    scenario = _scenario(
        requests=[
            {"name": "list", "path": "/l", "weight": 3},
            {"name": "detail", "path": "/d/{id}", "weight": 2, "ids": [1, 100]},
            {"name": "search", "path": "/s", "weight": 1},
        ]
    )
    counts = Counter(r.name for r in weighted_mix(scenario))
    assert counts["list"] == 3 * counts["search"]
    assert counts["detail"] == 2 * counts["search"]


def test_the_demo_password_is_filled_in_json_escaped() -> None:
    scenario = _scenario(
        requests=[{"name": "login", "method": "POST", "path": "/l", "body": '{"p": "{password}"}'}]
    )
    mix = weighted_mix(scenario, password='se"cret')
    assert {r.body for r in mix} == {'{"p": "se\\"cret"}'}


def test_a_background_needs_a_rate_and_requests() -> None:
    with pytest.raises(ValidationError, match=r"background\.rate"):
        _scenario(background={"rate": 0, "requests": [{"name": "a", "path": "/a"}]})
    with pytest.raises(ValidationError, match="at least 1 item"):
        _scenario(background={"rate": 1, "requests": []})


def test_zipf_ids_favour_the_first_and_reach_the_tail() -> None:
    spec = _scenario(
        requests=[
            {"name": "d", "path": "/d/{id}", "ids": [1, 10_000], "distribution": "zipf",
             "variants": 20_000}
        ]
    ).requests[0]  # fmt: skip
    ids = Counter(int(v.path.rsplit("/", 1)[1]) for v in expand(spec))
    assert sum(ids.values()) == 20_000
    assert ids.most_common(1)[0][0] == 1
    # Zipf(1.1) over 10,000: id 1 draws ~1/H ~ 12 %, ids past 1,000 still ~ 25 % in all.
    assert 0.08 < ids[1] / 20_000 < 0.16
    assert 0.15 < sum(n for i, n in ids.items() if i > 1_000) / 20_000 < 0.35


def test_a_wide_request_gets_every_variant_in_the_mix() -> None:
    scenario = _scenario(
        requests=[{"name": "d", "path": "/d/{id}", "ids": [1, 10_000], "variants": 5_000}]
    )
    mix = weighted_mix(scenario)
    assert len(mix) == 5_000
    assert len({r.path for r in mix}) > 3_500  # uniform draws with replacement: ~3,935
    usual = weighted_mix(_scenario(requests=[{"name": "d", "path": "/d/{id}", "ids": [1, 99]}]))
    assert len(usual) == 20
