"""The outbox table, as a mixin the service maps onto its own metadata (so the table is in the
service's migrations only when it records events):

    class OutboxEvent(OutboxEventMixin, Base):
        __tablename__ = "outbox"

Not for: recording (kit.outbox.record) or relaying (kit.outbox.relay)."""

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from apiforge.kit.db.base import CreatedAt, IdPk, UTCDateTime


class OutboxEventMixin:
    """One row per domain event, written in the transaction of the change it reports. `id`
    orders events (per aggregate, it is the order they are published in); `event_id` is the
    event's public identity (the AMQP `message_id`, a consumer's dedupe key). `sent_at` is
    set once every sink took the event; `attempts` and `last_error` record failed passes."""

    id: Mapped[IdPk]
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    aggregate_type: Mapped[str] = mapped_column(String(100))
    aggregate_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[CreatedAt]
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:  # noqa: N805  # a declared_attr
        # Named by the metadata's convention (`ix_<table>_sent_at`, `ix_<table>_aggregate_type`):
        # the relay's pass reads unsent rows in id order; its ordering check reads one
        # aggregate's unsent rows.
        return (
            Index(None, "sent_at", "id"),
            Index(None, "aggregate_type", "aggregate_id", "id"),
        )
