"""The HTML report as a reader sees it: a colour per target with a legend, the SLO as a
marker on the latency charts, the caveat by the verdict, real tables, what the baseline is."""

import itertools
import re
import xml.etree.ElementTree as ET

from apiforge.bench.charts import LABEL_W
from apiforge.bench.page import html
from tests.bench.factories import document, scenario

SVG = "{http://www.w3.org/2000/svg}"


def _charts(page: str) -> list[ET.Element]:
    svgs = re.findall(r"<svg.*?</svg>", page, re.DOTALL)
    return [ET.fromstring(svg) for svg in svgs]  # noqa: S314  # our own SVG, just rendered


def _bar_colours(chart: ET.Element) -> dict[str, set[str]]:
    """Fill colours of the bars, by the target each bar names in its <title>."""
    colours: dict[str, set[str]] = {}
    for rect in chart.iter(f"{SVG}rect"):
        title = rect.find(f"{SVG}title")
        if title is not None and title.text:
            colours.setdefault(title.text, set()).add(rect.attrib["fill"])
    return colours


def _legend(chart: ET.Element) -> dict[str, str]:
    """Legend entries: a swatch (a rect without a title) followed by its label."""
    children = list(chart)
    legend = {}
    for swatch, label in itertools.pairwise(children):
        is_swatch = swatch.tag == f"{SVG}rect" and swatch.find(f"{SVG}title") is None
        if is_swatch and label.tag == f"{SVG}text" and label.text:
            legend[label.text] = swatch.attrib["fill"]
    return legend


def test_one_colour_per_target_in_every_chart_with_a_legend() -> None:
    charts = _charts(html([document(), document()]))
    assert len(charts) == 6
    seen: dict[str, set[str]] = {}
    for chart in charts:
        colours = _bar_colours(chart)
        assert colours.keys() == {"baseline", "shop"}
        for name, fills in colours.items():
            assert len(fills) == 1, f"{name} has {fills} in one chart"
            seen.setdefault(name, set()).update(fills)
        assert _legend(chart) == {name: fills.pop() for name, fills in colours.items()}
    assert all(len(fills) == 1 for fills in seen.values()), seen  # the same in every chart
    assert seen["baseline"] != seen["shop"]


def _markers(chart: ET.Element) -> dict[str, float]:
    """Marker labels and the x of their lines (lines and labels are drawn in order)."""
    lines = [float(line.attrib["x1"]) for line in chart.iter(f"{SVG}line")]
    # Marker labels are the 11 px texts; the legend's sample lines come first.
    labels = [t.text or "" for t in chart.iter(f"{SVG}text") if t.attrib["font-size"] == "11"]
    return dict(zip(labels, lines[len(lines) - len(labels) :], strict=True))


def test_the_slo_and_the_goal_are_markers_on_the_latency_charts() -> None:
    doc = document(scenario_=scenario(goals={"max_p99_ms": 20}))
    throughput, closed, opened = _charts(html([doc]))
    assert _markers(throughput) == {}
    closed_markers = _markers(closed)
    assert closed_markers.keys() == {"SLO p50 < 50 ms", "SLO p99 < 200 ms", "goal p99 < 20 ms"}
    assert _markers(opened).keys() == {"SLO p50 < 50 ms", "SLO p99 < 200 ms"}
    # On the value scale of the bars: 200 ms is 10 times as far from the axis as 20 ms.
    slo, goal = closed_markers["SLO p99 < 200 ms"], closed_markers["goal p99 < 20 ms"]
    assert round((slo - LABEL_W) / (goal - LABEL_W), 3) == 10
    assert "SLO threshold" in ET.tostring(closed, encoding="unicode")  # in the legend


def test_the_caveat_is_by_the_verdict_and_by_the_open_loop_chart() -> None:
    page = html([document(fell_behind=True)])
    heading = page.index("<h2>catalog: ")
    svgs = [m.start() for m in re.finditer("<svg", page)]
    caveats = [m.start() for m in re.finditer('<p class="caveat"', page)]
    assert len(caveats) == 2
    assert heading < caveats[0] < svgs[0]  # under the FAIL, before any chart
    assert svgs[1] < caveats[1] < svgs[2]  # and just above the open-loop chart
    assert "This FAIL rests on them" in page[caveats[0] : svgs[0]]
    assert 'class="caveat"' not in html([document()])


def test_the_figures_are_html_tables() -> None:
    page = html([document(scenario_=scenario(goals={"min_ratio": 0.9}))])
    assert "<pre" not in page
    assert page.count("<table>") == 2  # the targets, the goals
    assert "|---" not in page
    assert "| shop" not in page
    assert '<td>shop</td><td class="num">2,000</td>' in page
    assert "<td><strong>missed</strong></td>" in page


def test_no_tracker_references_and_the_baseline_said() -> None:
    page = html([document(scenario_=scenario(goals={"min_ratio": 0.9, "max_p99_ms": 20}))])
    assert "issue" not in page.lower()
    assert '<p class="baseline">The baseline is a bare FastAPI app' in page
