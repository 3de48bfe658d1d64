"""Exactly-once processing of inbound messages by their id (the idempotent-consumer pattern):
the service maps `InboxMessageMixin` onto its metadata and claims each message with
`Inbox(model).claim(session, source, message_id)` in the transaction that applies it. Not for:
outbound events (kit.outbox) or HTTP request replays (kit.idempotency)."""

from apiforge.kit.inbox.model import InboxMessageMixin
from apiforge.kit.inbox.store import Inbox

__all__ = ["Inbox", "InboxMessageMixin"]
