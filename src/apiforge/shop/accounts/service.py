"""Accounts rules: registration, login, refresh-token rotation with reuse detection, logout
(one session or everywhere), password changes, disabling accounts, and the standing token
checks read. Plain classes with their collaborators passed in, so the CLI seed, the identity
store and tests build them directly."""

import hashlib
import uuid
from dataclasses import replace
from datetime import timedelta

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import (
    AccessTokenCodec,
    AuthSettings,
    ExternalIdentity,
    Identity,
    PasswordHasher,
    Principal,
    SubjectState,
    Throttle,
    after_commit,
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
    UserNotFoundError,
    WrongPasswordError,
)
from apiforge.shop.accounts.repository import RefreshTokenRepository, UserRepository
from apiforge.shop.accounts.schemas import (
    Email,
    LoginRequest,
    PasswordChange,
    TokenPair,
    UserCreate,
    UserRecord,
)
from apiforge.shop.ratelimits import LOGIN, LOGIN_IP
from apiforge.shop.roles import Role

_EMAIL = TypeAdapter(Email)


def _registrable(claimed: str | None) -> str | None:
    """The issuer's email claim as registration would store it, or None: the claim is free
    text (an unbounded or NUL-bearing one failed the insert on PostgreSQL, a 500), and the
    users table holds real addresses only."""
    if claimed is None:
        return None
    try:
        return _EMAIL.validate_python(claimed)
    except ValidationError:
        return None


class UserDirectory:
    """What other parts of the shop ask about users: their standing for token checks, an
    account by email, the local user behind an external identity."""

    def __init__(self, session: AsyncSession) -> None:
        self.users = UserRepository(session)

    async def standing(self, user_id: int) -> SubjectState | None:
        found = await self.users.get_standing(user_id)
        if found is None:
            return None
        return SubjectState(generation=found.token_generation, active=found.is_active)

    async def by_email(self, email: str) -> UserRecord | None:
        return await self.users.get_by_email(email.strip().lower())

    async def by_id(self, user_id: int) -> UserRecord | None:
        return await self.users.get(user_id)

    async def link_external(self, identity: ExternalIdentity) -> int:
        """The user linked to (issuer, subject), created on first sight with the token's
        email when that address is free, else with a placeholder address (never linked to
        an existing account by email: another issuer may vouch for the same address). No
        password: such a user signs in only through its issuer."""
        found = await self.users.find_external(identity.issuer, identity.subject)
        if found is not None:
            return found
        user = None
        email = _registrable(identity.email)
        if email is not None and not await self.users.email_exists(email):
            try:
                user = await self._add(email)
            except EmailTakenError:
                user = None  # taken meanwhile: fall through to the placeholder
        if user is None:
            digest = hashlib.sha256(f"{identity.issuer}\0{identity.subject}".encode()).hexdigest()
            user = await self._add(f"external-{digest[:24]}@external.invalid")
        if await self.users.add_external(identity.issuer, identity.subject, user.id):
            return user.id
        # Another worker saw the same subject first and linked it (a client's first calls
        # come in parallel): its user is the one; ours is dropped before anyone saw it.
        await self.users.delete(user.id)
        linked = await self.users.find_external(identity.issuer, identity.subject)
        if linked is None:  # pragma: no cover  # the constraint said the link exists
            raise RuntimeError("external identity link vanished")
        return linked

    async def _add(self, email: str) -> UserRecord:
        return await self.users.add(
            email=email, password_hash="", full_name=None, role=Role.CUSTOMER
        )


class AccountsService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        passwords: PasswordHasher,
        tokens: AccessTokenCodec,
        settings: AuthSettings,
        identity: Identity | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self.session = session
        self.identity = identity
        # The request's rate limiter (HTTP only): logins are counted per account + address.
        self.throttle = throttle
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
        """Tokens for a right email and password. With a throttle, each attempt is counted
        first, per address and per account + address (the 6th within the window is refused
        before the password is checked, right or wrong), and a success forgets the account's
        count. Unknown accounts are counted alike, so the answers reveal nothing."""
        throttle = self.throttle
        attempt = f"{credentials.email}\n{throttle.client}" if throttle is not None else ""
        if throttle is not None:
            await throttle.enforce((LOGIN_IP, throttle.client), (LOGIN, attempt))
        candidate = await self.users.get_login_candidate(credentials.email)
        # verify() hashes against a dummy when there is no user, so every failure costs the
        # same time; a disabled account is checked only after, for the same reason.
        verified = await self.passwords.verify(
            credentials.password, candidate.password_hash if candidate else None
        )
        if not verified or candidate is None or not candidate.is_active:
            raise InvalidCredentialsError("The email or password is not correct.")
        if throttle is not None:
            await throttle.forget(LOGIN, attempt)
        return await self._issue(
            candidate.id,
            candidate.role,
            generation=candidate.token_generation,
            family_id=uuid.uuid4().hex,
        )

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
        return await self._issue(
            stored.user_id,
            stored.role,
            generation=stored.token_generation,
            family_id=stored.family_id,
        )

    async def logout(self, refresh_token: str) -> None:
        """Revoke the token's whole family. Unknown or already revoked tokens are no error:
        logging out twice, or after the session expired, leaves the same state."""
        await self.refresh_tokens.revoke_family_of(refresh_token_digest(refresh_token), utcnow())

    async def change_password(self, user_id: int, change: PasswordChange) -> TokenPair:
        """Check the current password, store the new one, and end every session of the user
        (refresh tokens revoked, access tokens of earlier generations refused in every worker
        once committed); the caller continues with the new pair returned."""
        standing = await self.users.get_standing(user_id)
        verified = await self.passwords.verify(
            change.current_password, standing.password_hash if standing else None
        )
        if standing is None or not standing.is_active:
            raise AccountUnavailableError("The account behind this token is no longer available.")
        if not verified:
            raise WrongPasswordError("The current password is not correct.")
        new_hash = await self.passwords.hash(change.new_password)
        generation = await self._end_sessions(user_id, password_hash=new_hash)
        return await self._issue(
            user_id, standing.role, generation=generation, family_id=uuid.uuid4().hex
        )

    async def logout_all(self, user_id: int) -> None:
        """End every session of the user: every refresh-token family revoked, every access
        token issued so far refused."""
        await self._end_sessions(user_id)

    async def set_active(self, user_id: int, active: bool) -> UserRecord:
        """Disable (or enable) an account. Either way its sessions end: a disabled user's
        tokens are refused at once, and enabling it again does not revive them."""
        user = await self.users.get(user_id)
        if user is None:
            raise UserNotFoundError(f"No user {user_id}.")
        await self._end_sessions(user_id, is_active=active)
        return replace(user, is_active=active)

    async def _end_sessions(self, user_id: int, **changes: object) -> int:
        generation = await self.users.new_generation(user_id, **changes)
        await self.refresh_tokens.revoke_all_of(user_id, utcnow())
        identity = self.identity
        if identity is not None:
            subject = str(user_id)

            async def forget() -> None:
                await identity.forget_subject(subject)

            after_commit(self.session, forget)
        return generation

    async def current_user(self, principal: Principal) -> UserRecord:
        """The active user an access token speaks for."""
        user_id = principal.row_id
        user = await self.users.get(user_id) if user_id is not None else None
        if user is None or not user.is_active:
            raise AccountUnavailableError("The account behind this token is no longer available.")
        return user

    async def _issue(
        self, user_id: int, role: str, *, generation: int, family_id: str
    ) -> TokenPair:
        principal = Principal(subject=str(user_id), role=role, generation=generation)
        access = self.tokens.issue(principal)
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
