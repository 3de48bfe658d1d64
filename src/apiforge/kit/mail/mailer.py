"""Sending mail over SMTP with aiosmtplib: implicit TLS or STARTTLS as configured, credentials
from the settings (never logged), every exchange bounded by the timeout. Not for: rendering
(kit.mail.templates) or deciding when to send (a job does, after the commit)."""

import logging
from email.message import EmailMessage

import aiosmtplib

from apiforge.kit.logs import log_fields
from apiforge.kit.settings.jobs import MailSettings

logger = logging.getLogger("apiforge.mail")


class MailError(RuntimeError):
    """The SMTP server refused or could not be reached; the job sending it retries."""


class Mailer:
    """Sends each message (an `EmailMessage`) through the server in `settings` (`plain`: the
    development sink on loopback, which speaks no TLS)."""

    def __init__(self, settings: MailSettings, *, plain: bool = False) -> None:
        self.settings = settings
        self.plain = plain

    @property
    def sender(self) -> str:
        return self.settings.sender

    async def send(self, message: EmailMessage) -> None:
        settings = self.settings
        security = "none" if self.plain else settings.security
        password = settings.password.get_secret_value() if settings.password else None
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.host,
                port=settings.port,
                username=settings.username,
                password=password,
                use_tls=security == "tls",
                start_tls=security == "starttls",
                timeout=settings.timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            # The exception's text names the server and the SMTP reply, never the password.
            raise MailError(f"{type(exc).__name__}: {exc}") from exc
        log_fields(
            logger,
            logging.INFO,
            "mail sent",
            {"message_id": str(message.get("Message-ID", "")), "server": settings.host},
        )
