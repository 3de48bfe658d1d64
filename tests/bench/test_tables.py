"""One table, two renderings."""

from apiforge.bench.tables import Strong, Table

TABLE = Table(("name", "n"), [("a|b", "1"), ("<c>", Strong("2"))], numeric=frozenset({1}))


def test_markdown() -> None:
    assert TABLE.markdown() == ["| name | n |", "|---|---:|", r"| a\|b | 1 |", "| <c> | **2** |"]


def test_html() -> None:
    assert TABLE.html() == (
        '<table><thead><tr><th>name</th><th class="num">n</th></tr></thead><tbody>'
        '<tr><td>a|b</td><td class="num">1</td></tr>'
        '<tr><td>&lt;c&gt;</td><td class="num"><strong>2</strong></td></tr></tbody></table>'
    )
