"""All accounts SQL, in SQLAlchemy Core: login and refresh are on every client's path, and
Core rows cost a fraction of the ORM's CPU."""

from datetime import datetime

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import table_of
from apiforge.shop.accounts.errors import EmailTakenError
from apiforge.shop.accounts.models import ExternalIdentity, RefreshToken, User
from apiforge.shop.accounts.schemas import (
    LockedRefreshToken,
    LoginCandidate,
    UserRecord,
)

users = table_of(User)
refresh_tokens = table_of(RefreshToken)
external_identities = table_of(ExternalIdentity)

_USER_COLUMNS = (
    users.c.id,
    users.c.email,
    users.c.full_name,
    users.c.role,
    users.c.is_active,
    users.c.created_at,
)
_CANDIDATE_COLUMNS = (
    users.c.id,
    users.c.role,
    users.c.is_active,
    users.c.password_hash,
    users.c.token_generation,
)


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> UserRecord | None:
        row = (
            await self.session.execute(select(*_USER_COLUMNS).where(users.c.id == user_id))
        ).one_or_none()
        return UserRecord(**row._mapping) if row else None

    async def get_by_email(self, email: str) -> UserRecord | None:
        query = select(*_USER_COLUMNS).where(users.c.email == email)
        row = (await self.session.execute(query)).one_or_none()
        return UserRecord(**row._mapping) if row else None

    async def get_login_candidate(self, email: str) -> LoginCandidate | None:
        query = select(*_CANDIDATE_COLUMNS).where(users.c.email == email)
        row = (await self.session.execute(query)).one_or_none()
        return LoginCandidate(**row._mapping) if row else None

    async def get_standing(self, user_id: int) -> LoginCandidate | None:
        """What token checks and re-authentication need of the user with this id."""
        query = select(*_CANDIDATE_COLUMNS).where(users.c.id == user_id)
        row = (await self.session.execute(query)).one_or_none()
        return LoginCandidate(**row._mapping) if row else None

    async def new_generation(self, user_id: int, **changes: object) -> int:
        """Bump the user's token generation (every earlier access token stops working),
        applying `changes` (a new password hash, `is_active`) in the same statement."""
        statement = (
            update(users)
            .where(users.c.id == user_id)
            .values(token_generation=users.c.token_generation + 1, **changes)
            .returning(users.c.token_generation)
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def find_external(self, issuer: str, subject: str) -> int | None:
        query = select(external_identities.c.user_id).where(
            external_identities.c.issuer == issuer, external_identities.c.subject == subject
        )
        found = (await self.session.execute(query)).scalar_one_or_none()
        return None if found is None else int(found)

    async def add_external(self, issuer: str, subject: str, user_id: int) -> bool:
        """Link (issuer, subject) to the user; False when it is linked already, by a
        concurrent transaction that won the race to the unique constraint (it committed
        first: `find_external` now sees its link)."""
        statement = insert(external_identities).values(
            issuer=issuer, subject=subject, user_id=user_id
        )
        try:
            async with self.session.begin_nested():  # a savepoint, as in `add`
                await self.session.execute(statement)
        except IntegrityError:
            return False
        return True

    async def delete(self, user_id: int) -> None:
        await self.session.execute(delete(users).where(users.c.id == user_id))

    async def email_exists(self, email: str) -> bool:
        query = select(exists().where(users.c.email == email))
        return bool((await self.session.execute(query)).scalar())

    async def add(
        self, *, email: str, password_hash: str, full_name: str | None, role: str
    ) -> UserRecord:
        """Insert a user; raises `EmailTakenError` when the address is already registered,
        including by a concurrent transaction that won the race to the unique constraint."""
        statement = (
            insert(users)
            .values(email=email, password_hash=password_hash, full_name=full_name, role=role)
            .returning(*_USER_COLUMNS)
        )
        try:
            # A savepoint, so a lost race leaves the caller's transaction usable (PostgreSQL
            # aborts the whole transaction on a failed statement otherwise).
            async with self.session.begin_nested():
                row = (await self.session.execute(statement)).one()
        except IntegrityError as exc:
            raise EmailTakenError(f"{email} is already registered.") from exc
        return UserRecord(**row._mapping)


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, user_id: int, family_id: str, digest: str, expires_at: datetime) -> None:
        await self.session.execute(
            insert(refresh_tokens).values(
                user_id=user_id, family_id=family_id, token_digest=digest, expires_at=expires_at
            )
        )

    async def lock_by_digest(self, digest: str) -> LockedRefreshToken | None:
        """The token row, locked until the transaction ends so two refreshes with the same
        token run one after the other (the second then sees it revoked). SQLite needs no row
        lock: the writer's BEGIN IMMEDIATE already serialises writers."""
        query = (
            select(
                refresh_tokens.c.id,
                refresh_tokens.c.user_id,
                refresh_tokens.c.family_id,
                refresh_tokens.c.expires_at,
                refresh_tokens.c.revoked_at,
                users.c.role,
                users.c.is_active,
                users.c.token_generation,
            )
            .join(users, users.c.id == refresh_tokens.c.user_id)
            .where(refresh_tokens.c.token_digest == digest)
            .with_for_update(of=refresh_tokens)
        )
        row = (await self.session.execute(query)).one_or_none()
        return LockedRefreshToken(**row._mapping) if row else None

    async def revoke(self, token_id: int, at: datetime) -> None:
        await self.session.execute(
            update(refresh_tokens).where(refresh_tokens.c.id == token_id).values(revoked_at=at)
        )

    async def revoke_family(self, family_id: str, at: datetime) -> None:
        await self.session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    async def revoke_family_of(self, digest: str, at: datetime) -> None:
        """Revoke the family of the token with `digest`, in one statement; nothing when no
        token has that digest."""
        family = (
            select(refresh_tokens.c.family_id)
            .where(refresh_tokens.c.token_digest == digest)
            .scalar_subquery()
        )
        await self.session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    async def revoke_all_of(self, user_id: int, at: datetime) -> None:
        """Revoke every refresh token of the user (every family: logout everywhere)."""
        await self.session.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
