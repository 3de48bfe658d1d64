from apiforge.kit import Base, InboxMessageMixin


class PaymentInboxMessage(InboxMessageMixin, Base):
    """Payment provider events already applied (kit.inbox): one row per `webhook-id`, written
    in the transaction that applies the event.

    TODO(issue 11): the events branch maps the shop's shared `inbox` table (source + message
    id); once it is on main, claim there with source "payments" and drop this table."""

    __tablename__ = "payment_inbox"
