"""Accounts SQL: the unique email under a race, family revocation, the joined token lock."""

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import utcnow
from apiforge.shop.accounts.errors import EmailTakenError
from apiforge.shop.accounts.repository import RefreshTokenRepository, UserRepository
from tests.factories import UserWithPassword


async def test_duplicate_insert_is_email_taken_and_the_transaction_survives(
    session: AsyncSession, customer: UserWithPassword
) -> None:
    users = UserRepository(session)
    # Straight to the insert, as when another transaction registered between check and insert.
    with pytest.raises(EmailTakenError):
        await users.add(email=customer.email, password_hash="x", full_name=None, role="customer")
    # On PostgreSQL a failed statement aborts the transaction unless it ran in a savepoint.
    assert await users.email_exists(customer.email)
    assert not await users.email_exists("nobody@example.com")


async def test_login_candidate_matches_the_stored_email_exactly(
    session: AsyncSession, customer: UserWithPassword
) -> None:
    users = UserRepository(session)
    candidate = await users.get_login_candidate(customer.email)
    assert candidate is not None
    assert (candidate.id, candidate.role, candidate.is_active) == (customer.id, "customer", True)
    assert candidate.password_hash.startswith("$argon2id$")
    assert await users.get_login_candidate("missing@example.com") is None


async def _add(tokens: RefreshTokenRepository, user_id: int, family: str, digest: str) -> None:
    await tokens.add(
        user_id=user_id, family_id=family, digest=digest, expires_at=utcnow() + timedelta(days=1)
    )


async def test_revoke_family_of_touches_only_that_family(
    session: AsyncSession, customer: UserWithPassword
) -> None:
    tokens = RefreshTokenRepository(session)
    await _add(tokens, customer.id, "a" * 32, "1" * 64)
    await _add(tokens, customer.id, "a" * 32, "2" * 64)
    await _add(tokens, customer.id, "b" * 32, "3" * 64)

    await tokens.revoke_family_of("2" * 64, utcnow())
    await tokens.revoke_family_of("f" * 64, utcnow())  # unknown digest: nothing happens

    states = {d: await tokens.lock_by_digest(d) for d in ("1" * 64, "2" * 64, "3" * 64)}
    revoked = {d: s.revoked_at is not None for d, s in states.items() if s is not None}
    assert revoked == {"1" * 64: True, "2" * 64: True, "3" * 64: False}


async def test_lock_by_digest_carries_the_owner_state(
    session: AsyncSession, admin: UserWithPassword
) -> None:
    tokens = RefreshTokenRepository(session)
    await _add(tokens, admin.id, "c" * 32, "4" * 64)
    locked = await tokens.lock_by_digest("4" * 64)
    assert locked is not None
    assert (locked.user_id, locked.family_id, locked.role, locked.is_active) == (
        admin.id,
        "c" * 32,
        "admin",
        True,
    )
    assert locked.revoked_at is None
    assert locked.expires_at.tzinfo is not None
    assert await tokens.lock_by_digest("0" * 64) is None
