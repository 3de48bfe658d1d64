from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from apiforge.kit import Base, BigIntId, CreatedAt, IdPk, UTCDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[IdPk]
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="customer", server_default="customer")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Access tokens carry the generation they were issued in; bumping it (logout everywhere,
    # a password change) makes every earlier access token invalid.
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[CreatedAt]


class RefreshToken(Base):
    """One row per issued refresh token; a rotation chain shares a `family_id`, so presenting
    a revoked token (a replay) can revoke the whole chain."""

    __tablename__ = "refresh_tokens"

    id: Mapped[IdPk]
    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[CreatedAt]


class ExternalIdentity(Base):
    """A user of a trusted external identity provider, linked to a local user by issuer and
    subject together (never by email alone: another issuer may vouch for the same address)."""

    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[IdPk]
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[CreatedAt]
