"""Small inline SVG bar charts for the HTML report: no JavaScript, no CDN, no dependency."""

from html import escape

COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948")
BAR_H = 18
GAP = 6
LABEL_W = 170
CHART_W = 640


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def bar_chart(
    title: str, rows: list[tuple[str, float]], unit: str, colors: list[int] | None = None
) -> str:
    """Horizontal bars, one per (label, value), scaled to the largest value; `colors` gives
    each row's palette index (default: one colour per row)."""
    top = max((v for _, v in rows), default=0.0) or 1.0
    height = 28 + len(rows) * (BAR_H + GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_W}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="0" y="16" font-weight="bold" font-size="13">{escape(title)}</text>',
    ]
    bar_space = CHART_W - LABEL_W - 90
    for i, (label, value) in enumerate(rows):
        y = 26 + i * (BAR_H + GAP)
        width = max(1.0, value / top * bar_space)
        color = COLORS[(colors[i] if colors else i) % len(COLORS)]
        parts += [
            f'<text x="0" y="{y + 13}" font-size="12">{escape(label)}</text>',
            f'<rect x="{LABEL_W}" y="{y}" width="{width:.1f}" height="{BAR_H}" fill="{color}"/>',
            f'<text x="{LABEL_W + width + 4:.1f}" y="{y + 13}" font-size="12">'
            f"{_fmt(value)} {escape(unit)}</text>",
        ]
    parts.append("</svg>")
    return "".join(parts)


def grouped_chart(title: str, groups: dict[str, dict[str, float]], unit: str) -> str:
    """Bars grouped by series: e.g. per target, one bar per percentile."""
    rows = [
        (f"{group} {key}", value)
        for group, series in groups.items()
        for key, value in series.items()
    ]
    return bar_chart(title, rows, unit)
