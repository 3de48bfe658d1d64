"""Mail messages rendered from a service's templates: for a template `NAME`, `NAME.subject.txt`
(one line), `NAME.txt` (the plain-text part, always) and `NAME.html` (the HTML alternative,
optional; autoescaped). Not for: sending (kit.mail.mailer).

Templates come from the service's own directory; values are the caller's, so HTML escaping
keeps a product named `<script>` inert in the HTML part."""

from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)


class MailTemplates:
    """Renders each message (an `EmailMessage`) from the templates in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.environment = Environment(
            loader=FileSystemLoader(directory),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,  # a misspelt variable fails the render, not the reader
            keep_trailing_newline=True,
        )

    def render(self, name: str, *, to: str, sender: str, values: dict[str, Any]) -> EmailMessage:
        subject = self.environment.get_template(f"{name}.subject.txt").render(values)
        text = self.environment.get_template(f"{name}.txt").render(values)
        message = EmailMessage()
        message["Subject"] = " ".join(subject.split())  # one line, whatever the template did
        message["From"] = sender
        message["To"] = to
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
        message.set_content(text)
        try:
            html = self.environment.get_template(f"{name}.html").render(values)
        except TemplateNotFound:
            return message
        message.add_alternative(html, subtype="html")
        return message
