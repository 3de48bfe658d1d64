"""The shop's event processes as the tests run them: `apiforge outbox relay` and `apiforge
consume stock` in subprocesses on a scratch PostgreSQL database and the machine's RabbitMQ,
with names of their own (an exchange, a queue) per test, so they may be killed with SIGKILL.
Lock and statement timeouts are lifted so that a process the test blocks on a lock stays
blocked until the test kills it."""

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

WAIT_LOCKS = {"APIFORGE_DB__LOCK_TIMEOUT_MS": "0", "APIFORGE_DB__STATEMENT_TIMEOUT_MS": "0"}


def unique_name() -> str:
    return f"apiforge-test-{uuid.uuid4().hex[:12]}"


def plain(url: str) -> str:
    """asyncpg's form of the SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg", "postgresql")


@contextmanager
def apiforge_process(
    args: list[str], database_url: str, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """`apiforge ARGS` running for the block (killed at its end if still running)."""
    process = subprocess.Popen(  # noqa: S603  # our own interpreter and CLI
        [sys.executable, "-m", "apiforge", *args],
        env={
            **os.environ,
            "APIFORGE_ENVIRONMENT": "test",
            "APIFORGE_DATABASE_URL": database_url,
            "APIFORGE_LOG_LEVEL": "WARNING",
            **WAIT_LOCKS,
            **env,
        },
        cwd=Path(__file__).parent,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=15)


async def waiting_on_a_lock(url: str, application_name: str) -> bool:
    """Whether a session of `application_name` waits for a lock (what the test holds)."""
    conn = await asyncpg.connect(plain(url), timeout=5)
    try:
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = $1 AND wait_event_type = 'Lock' "
            "AND datname = current_database()",
            application_name,
        )
    finally:
        await conn.close()
    return bool(waiting)
