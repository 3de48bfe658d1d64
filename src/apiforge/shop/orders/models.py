from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from apiforge.kit import Base, BigIntId, CreatedAt, IdPk, UTCDateTime, tenant_owned


class Order(Base):
    """A personal order (no organization: its placer's alone) or an organization's (placed
    by a member or one of its API keys, visible to its members)."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_user_id_id", "user_id", "id"),  # "my orders", newest first, keyset
        Index("ix_orders_organization_id_id", "organization_id", "id"),  # an org's orders
        # `paid`: the payment provider confirmed it (POST /api/webhooks/payments); a paid
        # order cannot be cancelled (refunds are not the shop's business yet).
        CheckConstraint("status IN ('placed', 'cancelled', 'paid')", name="status_known"),
        CheckConstraint("user_id IS NOT NULL OR api_key_id IS NOT NULL", name="placed_by_someone"),
        tenant_owned("organization_id"),
    )

    id: Mapped[IdPk]
    organization_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    # The member who placed it; None when an API key did (`api_key_id`, its lookup id).
    user_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="RESTRICT")
    )
    api_key_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), default="placed", server_default="placed")
    total_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[CreatedAt]
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[IdPk]
    order_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    product_name: Mapped[str] = mapped_column(String(200))  # as sold, even if renamed later
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)


class OrderMail(Base):
    """A confirmation mail sent for an order's event (placed, cancelled, paid): one row per
    pair, so the job that sends it, run again (a retry, a redelivery), finds the row and sends
    nothing."""

    __tablename__ = "order_mails"
    __table_args__ = (UniqueConstraint("order_id", "event"),)

    id: Mapped[IdPk]
    order_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("orders.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
