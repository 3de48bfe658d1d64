"""Every order event the confirmation job accepts has its templates: a subject line, a
plain-text part and an HTML part that escapes what customers and admins typed."""

import pytest

from apiforge.shop.orders.jobs import EVENTS, TEMPLATES

VALUES = {
    "order_id": 7,
    "name": "Ann <b>",
    "total": "12.50",
    "items": [{"name": "Tea & <Pot>", "quantity": 2, "line_total": "12.50"}],
}


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_each_event_renders_both_parts(event: str) -> None:
    message = TEMPLATES.render(
        f"order_{event}", to="ann@example.com", sender="shop@example.com", values=VALUES
    )
    assert "#7" in message["Subject"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "2 x Tea & <Pot>: 12.50" in text.get_content()
    assert "Tea &amp; &lt;Pot&gt;" in html.get_content()
    assert "Ann &lt;b&gt;" in html.get_content()
