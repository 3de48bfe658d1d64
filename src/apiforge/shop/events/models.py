"""The kit's outbox and inbox tables, mapped for the shop: domain events the shop publishes
(`outbox`) and inbound messages it has processed (`inbox`: the warehouse stock feed, payment
webhooks)."""

from apiforge.kit import Base, InboxMessageMixin, OutboxEventMixin


class OutboxEvent(OutboxEventMixin, Base):
    """Events written in the transaction of the change they report (kit.outbox)."""

    __tablename__ = "outbox"


class InboxMessage(InboxMessageMixin, Base):
    """Inbound message ids already applied, per source (kit.inbox)."""

    __tablename__ = "inbox"
