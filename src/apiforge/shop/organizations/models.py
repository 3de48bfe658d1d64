from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from apiforge.kit import Base, BigIntId, CreatedAt, IdPk, tenant_owned


class Organization(Base):
    """A tenant: a company buying on one account, with members in hierarchical roles."""

    __tablename__ = "organizations"

    id: Mapped[IdPk]
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[CreatedAt]


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id"),
        CheckConstraint("role IN ('viewer', 'buyer', 'admin', 'owner')", name="role_known"),
        tenant_owned("organization_id"),
    )

    id: Mapped[IdPk]
    organization_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organizations.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[CreatedAt]
