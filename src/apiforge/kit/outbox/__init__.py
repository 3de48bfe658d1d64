"""The transactional outbox: domain events written in the transaction of the change they report
(`record_event`), then published at least once, in order per aggregate, by `OutboxRelay` to a
RabbitMQ topic exchange (`RabbitMqSink`) and to in-process sinks (`EventSink`, or
`TransactionalSink` for writes in the relay's transaction). Not for:
inbound messages (kit.inbox) or jobs."""

from apiforge.kit.outbox.embedded import embedded_relay, relay_for
from apiforge.kit.outbox.metrics import OutboxMetrics
from apiforge.kit.outbox.model import OutboxEventMixin
from apiforge.kit.outbox.record import NewEvent, OutboxMessage, record_event, record_events
from apiforge.kit.outbox.relay import OutboxRelay, RelayStats
from apiforge.kit.outbox.sinks import CallbackSink, EventSink, TransactionalSink

__all__ = [
    "CallbackSink",
    "EventSink",
    "NewEvent",
    "OutboxEventMixin",
    "OutboxMessage",
    "OutboxMetrics",
    "OutboxRelay",
    "RelayStats",
    "TransactionalSink",
    "embedded_relay",
    "record_event",
    "record_events",
    "relay_for",
]
