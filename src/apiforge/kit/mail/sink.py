"""An SMTP sink on loopback (aiosmtpd, on the running event loop): development's mail server,
which logs each message's recipient and subject instead of delivering it, and the test suite's,
which also keeps the messages to read. Not for: production (it delivers nothing)."""

import asyncio
import logging
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from apiforge.kit.logs import log_fields

logger = logging.getLogger("apiforge.mail.sink")


class MailSink:
    """Accepts every message on `host:port` (0: a free port, see `port`), logs one line per
    message and keeps the last `keep` messages in `messages`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, keep: int = 1000) -> None:
        self.host = host
        self.port = port
        self.keep = keep
        self.messages: list[EmailMessage] = []
        self.received = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="apiforge-sink", loop=loop), self.host, self.port
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def handle_DATA(  # noqa: N802  # aiosmtpd's handler hook name
        self, _server: Any, _session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, policy=policy.default)
        if not isinstance(message, EmailMessage):  # policy.default always builds one
            return "451 cannot parse message"
        self.messages.append(message)
        del self.messages[: -self.keep]
        self.received.set()
        log_fields(
            logger,
            logging.INFO,
            "mail received by the development sink",
            {"to": ", ".join(envelope.rcpt_tos), "subject": str(message.get("Subject", ""))},
        )
        return "250 OK"

    async def wait_for(self, count: int, within: float = 10.0) -> list[EmailMessage]:
        """Waits until `count` messages arrived (TimeoutError after `within` seconds)."""
        async with asyncio.timeout(within):
            while len(self.messages) < count:
                self.received.clear()
                await self.received.wait()
        return list(self.messages)
