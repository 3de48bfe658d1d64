"""Small inline SVG bar charts for the HTML report: no JavaScript, no CDN, no dependency.

A chart is a list of groups (a percentile, an endpoint's percentile), each a bar per target.
A target has one colour in every chart of a report (`palette`), each chart has a legend, and
a group may carry threshold markers (the SLO, a goal) drawn across its bars and labelled.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from typing import Literal

MarkerKind = Literal["slo", "goal"]
# The measured service and its reference keep their colours whatever else a run measures.
FIXED_COLORS = {"shop": "#2f6db5", "baseline": "#9a9a9a"}
OTHER_COLORS = ("#e07b28", "#4c9a52", "#a05195", "#2aa198", "#c9a227")
MARKER_STYLES: dict[MarkerKind, tuple[str, str]] = {
    "slo": ("#d62728", "6 3"),
    "goal": ("#7b3fa0", "3 2"),
}
MARKER_NAMES: dict[MarkerKind, str] = {"slo": "SLO threshold", "goal": "goal"}

WIDTH = 880
LABEL_W = 130
VALUE_W = 150
BAR_H = 16
BAR_GAP = 4
GROUP_GAP = 10
HEADING_H = 20
MARKER_ROW_H = 14
TOP = 52  # title and legend
HALO = 'paint-order="stroke" stroke="#fff" stroke-width="6" stroke-linejoin="round"'
CHAR_W = 6.8  # a 12 px character, wide enough for digits


@dataclass(frozen=True)
class Marker:
    value: float
    label: str
    kind: MarkerKind = "slo"


@dataclass(frozen=True)
class Bar:
    target: str
    value: float
    note: str = ""  # after the value, e.g. a ratio


@dataclass(frozen=True)
class Group:
    label: str
    bars: list[Bar]
    markers: tuple[Marker, ...] = ()
    heading: str = ""  # a full-width line above the group, e.g. the endpoint


@dataclass
class _Canvas:
    parts: list[str] = field(default_factory=list)

    def text(self, x: float, y: float, body: str, extra: str = "") -> None:
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}" {extra}>{escape(body)}</text>')


def palette(targets: Iterable[str]) -> dict[str, str]:
    """One colour per target name, for every chart of a report."""
    colors: dict[str, str] = {}
    others = iter(OTHER_COLORS)
    for name in targets:
        if name not in colors:
            colors[name] = FIXED_COLORS.get(name) or next(others, "#555555")
    return colors


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def _legend(canvas: _Canvas, colors: dict[str, str], kinds: list[MarkerKind]) -> None:
    x = 0.0
    for name, color in colors.items():
        canvas.parts.append(f'<rect x="{x:.1f}" y="27" width="12" height="12" fill="{color}"/>')
        canvas.text(x + 16, 37, name, 'font-size="12"')
        x += 28 + 7 * len(name)
    for kind in kinds:
        stroke, dash = MARKER_STYLES[kind]
        canvas.parts.append(
            f'<line x1="{x:.1f}" y1="33" x2="{x + 18:.1f}" y2="33" stroke="{stroke}" '
            f'stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        canvas.text(x + 22, 37, MARKER_NAMES[kind], 'font-size="12"')
        x += 34 + 7 * len(MARKER_NAMES[kind])


def _bar(canvas: _Canvas, bar: Bar, y: float, width: float, color: str, unit: str) -> None:
    width = max(1.0, width)
    canvas.parts.append(
        f'<rect x="{LABEL_W}" y="{y:.1f}" width="{width:.1f}" height="{BAR_H}" '
        f'fill="{color}"><title>{escape(bar.target)}</title></rect>'
    )
    value = f"{_fmt(bar.value)} {unit} {bar.target}" + (f" ({bar.note})" if bar.note else "")
    if LABEL_W + width + 4 + CHAR_W * len(value) > WIDTH:
        # No room after the bar: inside its end, in white.
        canvas.text(
            LABEL_W + width - 6, y + 12.5, value,
            'font-size="12" fill="#fff" text-anchor="end"',
        )  # fmt: skip
        return
    # A white halo keeps the figure readable where it crosses a marker line.
    canvas.text(LABEL_W + width + 4, y + 12.5, value, f'font-size="12" {HALO}')


def _group(
    canvas: _Canvas, group: Group, y: float, scale: float, colors: dict[str, str], unit: str
) -> float:
    """Draw one group from `y`; the y below it."""
    if group.heading:
        canvas.text(0, y + 14, group.heading, 'font-size="12" font-weight="bold"')
        y += HEADING_H
    top = y
    bottom = y + len(group.bars) * (BAR_H + BAR_GAP) - BAR_GAP
    canvas.text(
        LABEL_W - 10, (top + bottom) / 2 + 4, group.label, 'font-size="12" text-anchor="end"'
    )
    # Markers first, so the bars and their figures (with a white halo) sit above the line.
    below = bottom
    for marker in group.markers:
        stroke, dash = MARKER_STYLES[marker.kind]
        x = LABEL_W + marker.value * scale
        canvas.parts.append(
            f'<line x1="{x:.1f}" y1="{top - 3:.1f}" x2="{x:.1f}" y2="{bottom + 3:.1f}" '
            f'stroke="{stroke}" stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        anchor = "end" if x > WIDTH - 160 else "start"
        canvas.text(
            x + (-4 if anchor == "end" else 4), below + 13, marker.label,
            f'font-size="11" fill="{stroke}" text-anchor="{anchor}"',
        )  # fmt: skip
        below += MARKER_ROW_H
    for bar in group.bars:
        _bar(canvas, bar, y, bar.value * scale, colors[bar.target], unit)
        y += BAR_H + BAR_GAP
    return below + GROUP_GAP


def bar_chart(title: str, groups: list[Group], unit: str, colors: dict[str, str]) -> str:
    """Horizontal bars, scaled to the largest value or marker, coloured by target."""
    values = [b.value for g in groups for b in g.bars] + [
        m.value for g in groups for m in g.markers
    ]
    scale = (WIDTH - LABEL_W - VALUE_W) / (max(values, default=0.0) or 1.0)
    shown = {b.target for g in groups for b in g.bars}
    kinds = sorted({m.kind for g in groups for m in g.markers}, key=list(MARKER_STYLES).index)
    canvas = _Canvas()
    canvas.text(0, 17, title, 'font-size="14" font-weight="bold"')
    _legend(canvas, {n: c for n, c in colors.items() if n in shown}, kinds)
    y = float(TOP)
    for group in groups:
        y = _group(canvas, group, y, scale, colors, unit)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{y:.0f}" '
        f'viewBox="0 0 {WIDTH} {y:.0f}" role="img" aria-label="{escape(title)}" '
        f'font-family="system-ui, sans-serif">{"".join(canvas.parts)}</svg>'
    )
