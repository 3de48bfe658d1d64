from typing import Any

import pytest
from pwdlib import PasswordHash

from apiforge.kit import PasswordHasher
from apiforge.kit.settings import AuthSettings

# Cheap parameters: the code path is the same as production's.
HASHER = PasswordHasher(AuthSettings(argon2_memory_kib=64, argon2_time_cost=1))


async def test_hash_and_verify() -> None:
    hashed = await HASHER.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert await HASHER.verify("correct horse battery", hashed) is True


async def test_hashes_are_salted() -> None:
    assert await HASHER.hash("same") != await HASHER.hash("same")


async def test_wrong_password_is_false() -> None:
    hashed = await HASHER.hash("correct horse battery")
    assert await HASHER.verify("correct horse batterY", hashed) is False
    assert await HASHER.verify("", hashed) is False


async def test_odd_unicode_passwords() -> None:
    hashed = await HASHER.hash("pässwörd ✓ 🎉")
    assert await HASHER.verify("pässwörd ✓ 🎉", hashed) is True


async def test_parameters_come_from_settings() -> None:
    hashed = await PasswordHasher(AuthSettings(argon2_memory_kib=128, argon2_time_cost=3)).hash("x")
    assert "m=128,t=3,p=1" in hashed


@pytest.mark.parametrize("missing", [None, ""])
async def test_unknown_account_is_false_but_costs_a_real_verify(
    monkeypatch: pytest.MonkeyPatch, missing: str | None
) -> None:
    """No user enumeration by timing: a missing hash still runs argon2 against a dummy."""
    calls: list[tuple[str, str]] = []
    original = PasswordHash.verify

    def spy(self: PasswordHash, password: str, hash: str, **kwargs: Any) -> bool:
        calls.append((password, hash))
        return original(self, password, hash, **kwargs)

    monkeypatch.setattr(PasswordHash, "verify", spy)
    assert await HASHER.verify("apiforge-timing-equaliser", missing) is False
    assert len(calls) == 1
    assert calls[0][1].startswith("$argon2id$")


async def test_verify_with_the_dummy_password_and_no_hash_is_still_false() -> None:
    assert await HASHER.verify("apiforge-timing-equaliser", None) is False


async def test_concurrent_hashes_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A login flood queues for the limiter instead of occupying every core."""
    import asyncio
    import threading
    import time

    hasher = PasswordHasher(
        AuthSettings(argon2_memory_kib=64, argon2_time_cost=1), max_concurrent=2
    )
    running, peak, lock = 0, 0, threading.Lock()
    real_hash = PasswordHash.hash

    def slow_hash(self: PasswordHash, password: str, **kwargs: Any) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return real_hash(self, password, **kwargs)

    monkeypatch.setattr(PasswordHash, "hash", slow_hash)
    await asyncio.gather(*(hasher.hash(f"password {i}") for i in range(8)))
    assert peak == 2
