"""argon2id password hashing through pwdlib, run in a worker thread so a login never blocks the
event loop. Not for: tokens."""

import anyio.to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from apiforge.kit.settings import AuthSettings


class PasswordHasher:
    def __init__(self, settings: AuthSettings) -> None:
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
        return await anyio.to_thread.run_sync(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        target = password_hash or self._dummy_hash
        ok = await anyio.to_thread.run_sync(self._hash.verify, password, target)
        # bool(), not `is not None`: an empty hash (an account without a password) took the
        # dummy path too, and the dummy's public password must not open it.
        return ok and bool(password_hash)
