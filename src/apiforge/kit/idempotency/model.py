"""The table that remembers `Idempotency-Key` requests, as a mixin the service maps onto its own
metadata (so the table is in the service's migrations only when it opts in):

    class IdempotencyKey(IdempotencyKeyMixin, Base):
        __tablename__ = "idempotency_keys"

Not for: the rules of claiming and replaying (kit.idempotency.store)."""

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from apiforge.kit.db.base import CreatedAt, IdPk, UTCDateTime


class IdempotencyKeyMixin:
    """One row per (principal, key): the request's fingerprint, who holds it and until when
    (`owner`, `locked_until`) while it runs, then the answer to replay until `expires_at`."""

    id: Mapped[IdPk]
    # Whose key it is: two principals' equal keys never meet.
    scope: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(32))
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime())
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint]:  # noqa: N805  # a declared_attr
        return (UniqueConstraint("scope", "key"),)
