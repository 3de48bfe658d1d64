"""argon2id password hashing through pwdlib, run in worker threads so a login never blocks the
event loop, and at most `max_concurrent` at a time so a login flood queues instead of taking
every core from the reads. Not for: tokens."""

import os

import anyio
import anyio.to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from apiforge.kit.settings import AuthSettings


def default_hash_concurrency() -> int:
    """Half the cores (at least one): argon2 is CPU-bound, the other half keeps serving."""
    return max(1, (os.cpu_count() or 2) // 2)


class PasswordHasher:
    """argon2id hashing (pwdlib) off the event loop, at most `max_concurrent` at a time:
    `await hash(password)`, `await verify(password, stored_hash_or_None)`. Verifying against
    None (an unknown account) costs the same time and is always False. The running app's
    hasher is `app_state(app).passwords`."""

    def __init__(self, settings: AuthSettings, *, max_concurrent: int | None = None) -> None:
        self._limiter = anyio.CapacityLimiter(max_concurrent or default_hash_concurrency())
        self._hash = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.argon2_time_cost,
                    memory_cost=settings.argon2_memory_kib,
                    parallelism=settings.argon2_parallelism,
                ),
            )
        )
        # Verified against when the account does not exist, so a login for an unknown email
        # costs the same time as a wrong password (no user enumeration by timing).
        self._dummy_hash = self._hash.hash("apiforge-timing-equaliser")

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hash.hash, password, limiter=self._limiter)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        target = password_hash or self._dummy_hash
        ok = await anyio.to_thread.run_sync(
            self._hash.verify, password, target, limiter=self._limiter
        )
        # bool(), not `is not None`: an empty hash (an account without a password) took the
        # dummy path too, and the dummy's public password must not open it.
        return ok and bool(password_hash)
