"""A table of the report, written once and rendered twice: as Markdown for the summary file
and the terminal, as an HTML `<table>` for the report page."""

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Strong:
    """A cell to notice (a missed goal): bold in both renderings."""

    text: str


Cell = str | Strong


def _text(cell: Cell) -> str:
    return cell.text if isinstance(cell, Strong) else cell


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    numeric: frozenset[int] = frozenset()  # right-aligned columns, by index

    def markdown(self) -> list[str]:
        def cell(value: Cell) -> str:
            text = _text(value).replace("|", r"\|")
            return f"**{text}**" if isinstance(value, Strong) else text

        rule = ("---:" if i in self.numeric else "---" for i in range(len(self.header)))
        return [
            "| " + " | ".join(self.header) + " |",
            "|" + "|".join(rule) + "|",
            *("| " + " | ".join(cell(c) for c in row) + " |" for row in self.rows),
        ]

    def html(self) -> str:
        def cell(tag: str, i: int, value: Cell) -> str:
            align = ' class="num"' if i in self.numeric else ""
            text = escape(_text(value))
            body = f"<strong>{text}</strong>" if isinstance(value, Strong) else text
            return f"<{tag}{align}>{body}</{tag}>"

        head = "".join(cell("th", i, h) for i, h in enumerate(self.header))
        body = "".join(
            "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>"
            for row in self.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
