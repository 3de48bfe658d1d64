"""Accounts rules, through the service as the CLI builds it (no HTTP)."""

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import Principal, refresh_token_digest, utcnow
from apiforge.shop.accounts.errors import (
    AccountUnavailableError,
    EmailTakenError,
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    RefreshTokenReusedError,
)
from apiforge.shop.accounts.models import RefreshToken, User
from apiforge.shop.accounts.repository import RefreshTokenRepository
from apiforge.shop.accounts.schemas import LoginRequest, UserCreate
from apiforge.shop.accounts.service import AccountsService
from apiforge.shop.roles import Role
from tests.factories import UserWithPassword


async def test_ensure_user_creates_once(service: AccountsService) -> None:
    created = await service.ensure_user("Admin@Example.com", "first-password", Role.ADMIN, "Ad")
    again = await service.ensure_user("admin@example.com", "second-password", Role.CUSTOMER)
    assert again == created
    assert (created.email, created.role, created.full_name) == ("admin@example.com", "admin", "Ad")
    # The existing user is left alone: the first password still logs in, the second does not.
    await service.login(LoginRequest(email="admin@example.com", password="first-password"))
    with pytest.raises(InvalidCredentialsError):
        await service.login(LoginRequest(email="admin@example.com", password="second-password"))


async def test_ensure_user_validates_like_registration(service: AccountsService) -> None:
    with pytest.raises(ValidationError):
        await service.ensure_user("someone@example.com", "short", Role.CUSTOMER)


async def test_register_refuses_a_taken_email(
    service: AccountsService, customer: UserWithPassword
) -> None:
    with pytest.raises(EmailTakenError):
        await service.register(UserCreate(email=customer.email, password="long enough"))


async def test_register_stores_a_hash_not_the_password(
    service: AccountsService, session: AsyncSession
) -> None:
    user = await service.register(UserCreate(email="hash@example.com", password="plain secret"))
    stored = await session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert "plain secret" not in stored


async def test_login_refuses_a_disabled_account(
    service: AccountsService, session: AsyncSession, customer: UserWithPassword
) -> None:
    await session.execute(update(User).where(User.id == customer.id).values(is_active=False))
    with pytest.raises(InvalidCredentialsError):
        await service.login(LoginRequest(email=customer.email, password=customer.password))


async def test_login_stores_only_a_digest_with_the_configured_expiry(
    service: AccountsService, session: AsyncSession, customer: UserWithPassword
) -> None:
    pair = await service.login(LoginRequest(email=customer.email, password=customer.password))
    row = (await session.execute(select(RefreshToken))).scalars().one()
    assert row.token_digest == refresh_token_digest(pair.refresh_token)
    assert row.user_id == customer.id
    expected = utcnow() + service.refresh_ttl
    assert abs(row.expires_at - expected) < timedelta(seconds=30)


async def test_refresh_reuse_revokes_every_token_of_the_family(
    service: AccountsService, session: AsyncSession, customer: UserWithPassword
) -> None:
    credentials = LoginRequest(email=customer.email, password=customer.password)
    first = await service.login(credentials)
    unrelated = await service.login(credentials)
    second = await service.refresh(first.refresh_token)
    await service.refresh(second.refresh_token)

    with pytest.raises(RefreshTokenReusedError):
        await service.refresh(first.refresh_token)

    rows = (await session.execute(select(RefreshToken))).scalars().all()
    unrelated_digest = refresh_token_digest(unrelated.refresh_token)
    assert all(r.revoked_at is not None for r in rows if r.token_digest != unrelated_digest)
    assert [r.revoked_at for r in rows if r.token_digest == unrelated_digest] == [None]


async def test_refresh_refuses_an_expired_token(
    service: AccountsService, session: AsyncSession, customer: UserWithPassword
) -> None:
    await RefreshTokenRepository(session).add(
        user_id=customer.id,
        family_id="f" * 32,
        digest=refresh_token_digest("expired-token"),
        expires_at=utcnow() - timedelta(seconds=1),
    )
    with pytest.raises(InvalidRefreshTokenError):
        await service.refresh("expired-token")


async def test_current_user_needs_an_existing_active_user(
    service: AccountsService, session: AsyncSession, customer: UserWithPassword
) -> None:
    principal = Principal(subject=str(customer.id), role="customer")
    assert (await service.current_user(principal)).id == customer.id
    await session.execute(update(User).where(User.id == customer.id).values(is_active=False))
    with pytest.raises(AccountUnavailableError):
        await service.current_user(principal)
    with pytest.raises(AccountUnavailableError):
        await service.current_user(Principal(subject="9" * 19, role="customer"))
