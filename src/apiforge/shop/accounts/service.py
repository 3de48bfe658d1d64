"""Accounts rules: registration, login, refresh-token rotation with reuse detection, logout.
Plain class with its collaborators passed in, so the CLI seed and tests build it directly."""

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    AccessTokenCodec,
    AuthSettings,
    PasswordHasher,
    Principal,
    commit_on_error,
    new_refresh_token,
    refresh_token_digest,
    utcnow,
)
from apiforge.shop.accounts.errors import (
    AccountUnavailableError,
    EmailTakenError,
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
)
from apiforge.shop.accounts.repository import RefreshTokenRepository, UserRepository
from apiforge.shop.accounts.schemas import LoginRequest, TokenPair, UserCreate, UserRecord
from apiforge.shop.permissions import Role


class AccountsService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        passwords: PasswordHasher,
        tokens: AccessTokenCodec,
        settings: AuthSettings,
    ) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)
        self.passwords = passwords
        self.tokens = tokens
        self.refresh_ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)

    async def register(self, data: UserCreate, *, role: Role = Role.CUSTOMER) -> UserRecord:
        # Checked first so a taken address costs no argon2 hash; the unique constraint
        # behind `add` still decides a race between two registrations.
        if await self.users.email_exists(data.email):
            raise EmailTakenError(f"{data.email} is already registered.")
        password_hash = await self.passwords.hash(data.password)
        return await self.users.add(
            email=data.email, password_hash=password_hash, full_name=data.full_name, role=role
        )

    async def ensure_user(
        self, email: str, password: str, role: Role, full_name: str | None = None
    ) -> UserRecord:
        """The user with `email`, created with these values if missing (an existing user is
        returned unchanged). Input is validated as on registration: a too-short password or a
        malformed email raises `pydantic.ValidationError`."""
        data = UserCreate(email=email, password=password, full_name=full_name)
        existing = await self.users.get_by_email(data.email)
        if existing is not None:
            return existing
        try:
            return await self.register(data, role=role)
        except EmailTakenError:
            # Created concurrently between our read and our insert: theirs is as good.
            raced = await self.users.get_by_email(data.email)
            if raced is None:
                raise
            return raced

    async def login(self, credentials: LoginRequest) -> TokenPair:
        candidate = await self.users.get_login_candidate(credentials.email)
        # verify() hashes against a dummy when there is no user, so every failure costs the
        # same time; a disabled account is checked only after, for the same reason.
        verified = await self.passwords.verify(
            credentials.password, candidate.password_hash if candidate else None
        )
        if not verified or candidate is None or not candidate.is_active:
            raise InvalidCredentialsError("The email or password is not correct.")
        return await self._issue(candidate.id, candidate.role, family_id=uuid.uuid4().hex)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: revoke the presented token and issue a new pair in the same family.
        A token that was already revoked means two parties hold it, so the whole family is
        revoked and `RefreshTokenReusedError` raised, the session marked to commit that
        revocation although the request fails."""
        now = utcnow()
        stored = await self.refresh_tokens.lock_by_digest(refresh_token_digest(refresh_token))
        if stored is None:
            raise InvalidRefreshTokenError("The refresh token is not valid.")
        if stored.revoked_at is not None:
            await self.refresh_tokens.revoke_family(stored.family_id, now)
            commit_on_error(self.session)
            raise RefreshTokenReusedError(
                "This refresh token was already used; every session it started is now revoked."
            )
        if stored.expires_at <= now or not stored.is_active:
            raise InvalidRefreshTokenError("The refresh token is not valid.")
        await self.refresh_tokens.revoke(stored.id, now)
        # The role is read afresh, so a role change takes effect at the next refresh.
        return await self._issue(stored.user_id, stored.role, family_id=stored.family_id)

    async def logout(self, refresh_token: str) -> None:
        """Revoke the token's whole family. Unknown or already revoked tokens are no error:
        logging out twice, or after the session expired, leaves the same state."""
        await self.refresh_tokens.revoke_family_of(refresh_token_digest(refresh_token), utcnow())

    async def current_user(self, principal: Principal) -> UserRecord:
        """The active user an access token speaks for."""
        user_id = principal.row_id
        user = await self.users.get(user_id) if user_id is not None else None
        if user is None or not user.is_active:
            raise AccountUnavailableError("The account behind this token is no longer available.")
        return user

    async def _issue(self, user_id: int, role: str, *, family_id: str) -> TokenPair:
        access = self.tokens.issue(Principal(subject=str(user_id), role=role))
        refresh_token = new_refresh_token()
        await self.refresh_tokens.add(
            user_id=user_id,
            family_id=family_id,
            digest=refresh_token_digest(refresh_token),
            expires_at=utcnow() + self.refresh_ttl,
        )
        return TokenPair(
            access_token=access.token, refresh_token=refresh_token, expires_in=access.expires_in
        )
