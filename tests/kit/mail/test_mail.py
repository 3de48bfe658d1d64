"""Mail: templates render a plain-text part and an escaped HTML one; the mailer delivers them
over real SMTP to the sink the test runs; a server that is not there is a `MailError`; the
password never shows in what is logged or raised."""

from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr

from apiforge.kit import (
    Environment,
    Mailer,
    MailError,
    MailSettings,
    MailSink,
    MailTemplates,
    app_state,
    create_app,
)
from apiforge.kit.testing import running_app
from tests.kit.apps import kit_settings


@pytest.fixture
def templates(tmp_path: Path) -> MailTemplates:
    (tmp_path / "hello.subject.txt").write_text("Hello\n  {{ name }}\n")
    (tmp_path / "hello.txt").write_text("Dear {{ name }}, you owe {{ total }}.\n")
    (tmp_path / "hello.html").write_text("<p>Dear {{ name }}, you owe <b>{{ total }}</b>.</p>\n")
    (tmp_path / "plain.subject.txt").write_text("Plain\n")
    (tmp_path / "plain.txt").write_text("Text only.\n")
    return MailTemplates(tmp_path)


async def test_a_message_arrives_at_the_sink_with_both_parts(templates: MailTemplates) -> None:
    sink = MailSink()
    await sink.start()
    try:
        settings = MailSettings(port=sink.port, security="none", sender="shop@example.com")
        message = templates.render(
            "hello",
            to="ann@example.com",
            sender=settings.sender,
            values={"name": "<Ann>", "total": "9.99"},
        )
        await Mailer(settings).send(message)
        [received] = await sink.wait_for(1)
    finally:
        await sink.stop()
    assert received["To"] == "ann@example.com"
    assert received["From"] == "shop@example.com"
    assert received["Subject"] == "Hello <Ann>"  # one line, not HTML
    text = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert text is not None
    assert html is not None
    # SMTP carries lines ending in CRLF.
    assert text.get_content().splitlines() == ["Dear <Ann>, you owe 9.99."]
    assert html.get_content().splitlines() == ["<p>Dear &lt;Ann&gt;, you owe <b>9.99</b>.</p>"]


async def test_a_template_without_html_sends_text_only(templates: MailTemplates) -> None:
    message = templates.render("plain", to="a@example.com", sender="s@example.com", values={})
    assert not message.is_multipart()
    assert message.get_content() == "Text only.\n"


async def test_an_unreachable_server_is_a_mail_error_without_the_password() -> None:
    sink = MailSink()
    await sink.start()
    port = sink.port
    await sink.stop()  # nothing listens there now
    settings = MailSettings(
        port=port, security="starttls", username="shop", password=SecretStr("hunter2-secret")
    )
    with pytest.raises(MailError) as caught:
        await Mailer(settings).send(_message())
    assert "hunter2-secret" not in str(caught.value)


async def test_the_development_sink_runs_with_the_app_and_logs_each_message(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    probe = MailSink()
    await probe.start()
    port = probe.port
    await probe.stop()  # a free port for the development sink
    settings = kit_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'm.db'}",
        environment=Environment.DEVELOPMENT,
        mail=MailSettings(port=port),
    )
    app = create_app(settings, mail=True)
    async with running_app(app):
        mailer = app_state(app).mailer
        assert mailer is not None
        await mailer.send(_message())
    [line] = [
        r for r in caplog.records if r.getMessage() == "mail received by the development sink"
    ]
    assert line.__dict__["fields"] == {"to": "ann@example.com", "subject": "Hi"}


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "shop@example.com"
    message["To"] = "ann@example.com"
    message["Subject"] = "Hi"
    message.set_content("hello\n")
    return message
