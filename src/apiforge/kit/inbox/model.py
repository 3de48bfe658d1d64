"""The inbox table, as a mixin the service maps onto its own metadata (so the table is in the
service's migrations only when it takes inbound messages):

    class InboxMessage(InboxMessageMixin, Base):
        __tablename__ = "inbox_messages"

Not for: the rules of claiming and pruning (kit.inbox.store)."""

from datetime import datetime

from sqlalchemy import String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from apiforge.kit.db.base import IdPk, UTCDateTime, utcnow


class InboxMessageMixin:
    """One row per message processed: where it came from (`source`, e.g. "payments" or
    "stock-feed") and its id there. The unique (source, message_id) is what makes processing
    exactly once: a second claim of the same id finds the row and does nothing."""

    id: Mapped[IdPk]
    source: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[str] = mapped_column(String(255))
    # Indexed for pruning by age.
    received_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now(), index=True
    )

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint]:  # noqa: N805  # a declared_attr
        return (UniqueConstraint("source", "message_id"),)
