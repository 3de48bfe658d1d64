"""SVG bars: colours by target, figures that stay inside the chart, markers on scale."""

import re

from apiforge.bench.charts import (
    FIXED_COLORS,
    LABEL_W,
    WIDTH,
    Bar,
    Group,
    Marker,
    bar_chart,
    palette,
)


def test_the_palette_keeps_the_shop_and_the_baseline_colours() -> None:
    colours = palette(["baseline", "shop", "granian", "baseline", "uvicorn"])
    assert list(colours) == ["baseline", "shop", "granian", "uvicorn"]
    assert colours["shop"] == FIXED_COLORS["shop"]
    assert colours["baseline"] == FIXED_COLORS["baseline"]
    assert len(set(colours.values())) == 4
    assert palette(["uvicorn", "shop"])["shop"] == FIXED_COLORS["shop"]


def test_a_figure_with_no_room_after_its_bar_goes_inside_it() -> None:
    colours = palette(["baseline", "shop"])
    groups = [Group("", [Bar("baseline", 1000.0, "and a note too long to fit"), Bar("shop", 10.0)])]
    svg = bar_chart("t", groups, "req/s", colours)
    inside = re.search(
        r'<text x="([\d.]+)"[^>]*text-anchor="end"[^>]*>1,000 req/s baseline \(and', svg
    )
    assert inside is not None
    assert float(inside.group(1)) < WIDTH
    assert re.search(r'<text x="[\d.]+" y="[\d.]+" font-size="12" paint-order', svg)


def test_a_marker_beyond_the_bars_widens_the_scale() -> None:
    colours = palette(["shop"])
    svg = bar_chart(
        "t", [Group("p99", [Bar("shop", 50.0)], (Marker(200.0, "SLO"),))], "ms", colours
    )
    width = float(re.findall(r'<rect x="130" y="[\d.]+" width="([\d.]+)"', svg)[0])
    line_x = float(re.findall(r'<line x1="([\d.]+)" y1="[\d.]+" x2', svg)[-1])
    assert round((line_x - LABEL_W) / width, 3) == 4.0  # 200 ms is 4 x 50 ms
