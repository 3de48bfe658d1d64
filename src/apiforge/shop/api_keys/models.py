from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from apiforge.kit import Base, BigIntId, CreatedAt, IdPk, UTCDateTime, tenant_owned


class ApiKey(Base):
    """An organization's API key. Only a keyed digest of its secret is stored (the key
    itself is shown once, at creation); `key_id` is the lookup id inside the key."""

    __tablename__ = "api_keys"
    __table_args__ = (
        Index("ix_api_keys_organization_id_id", "organization_id", "id"),
        tenant_owned("organization_id"),
    )

    id: Mapped[IdPk]
    organization_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("organizations.id", ondelete="CASCADE")
    )
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    display_prefix: Mapped[str] = mapped_column(String(48))
    secret_digest: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(500))  # space-separated
    created_by: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
