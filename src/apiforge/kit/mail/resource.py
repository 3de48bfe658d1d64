"""The mailer as a lifespan resource: `state.mailer` while the app runs, with the development
sink started on the mail settings' host and port when it is on. Not for: sending."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from apiforge.kit.logs import log_fields
from apiforge.kit.mail.mailer import Mailer
from apiforge.kit.mail.sink import MailSink

if TYPE_CHECKING:
    from apiforge.kit.state import AppState

logger = logging.getLogger("apiforge.mail")


@asynccontextmanager
async def mail_resource(state: "AppState") -> AsyncIterator[None]:
    settings = state.settings
    sink: MailSink | None = None
    if settings.mail_dev_sink:
        sink = MailSink(settings.mail.host, settings.mail.port)
        try:
            await sink.start()
        except OSError as exc:
            # Another process of the service (a worker beside the server) runs it already.
            log_fields(
                logger, logging.WARNING, "development mail sink not started", {"reason": str(exc)}
            )
            sink = None
        else:
            log_fields(
                logger,
                logging.INFO,
                "development mail sink listening (messages are logged, not delivered)",
                {"host": sink.host, "port": sink.port},
            )
    state.mailer = Mailer(settings.mail, plain=settings.mail_dev_sink)
    try:
        yield
    finally:
        state.mailer = None
        if sink is not None:
            await sink.stop()
