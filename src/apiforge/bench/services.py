"""The services behind the shop during a bench: the bench database on the local PostgreSQL
(created when missing), its server version, and whether Redis answers."""

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

BENCH_DATABASE = "apiforge_bench"


def bench_database_url(admin_url: str, name: str = BENCH_DATABASE) -> str:
    """`admin_url` with its database replaced by `name`."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def ensure_postgres_database(
    admin_url: str, name: str = BENCH_DATABASE, *, recreate: bool = False
) -> str:
    """Create database `name` on the server of `admin_url` unless it exists; its URL.
    `recreate`: drop it first (its sessions ended), so a run starts from the seed alone."""
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            if recreate:
                # Quoted, and ours, not user input (a name cannot be a bind parameter).
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                # A name cannot be a bind parameter; quoted, and ours, not user input.
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return bench_database_url(admin_url, name)


async def analyze_postgres(url: str) -> bool:
    """`ANALYZE` the whole database (False when it is not PostgreSQL). After the seed, and each
    run, so the planner has statistics even where autovacuum is off (it is on this machine's
    PostgreSQL: without them the newest-orders read was planned for 36 rows of 16,859)."""
    if not url.startswith("postgresql"):
        return False
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return True


async def _postgres_scalar(url: str, query: str) -> object:
    """One value from a fresh connection; None for a database that is not PostgreSQL."""
    if not url.startswith("postgresql"):
        return None
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(text(query))
    finally:
        await engine.dispose()


async def postgres_version(url: str) -> str | None:
    version = await _postgres_scalar(url, "SHOW server_version")
    return None if version is None else str(version)


async def postgres_server_pid(url: str) -> int | None:
    """The pid of the backend serving a fresh connection (its parent is the postmaster)."""
    pid = await _postgres_scalar(url, "SELECT pg_backend_pid()")
    return None if pid is None else int(str(pid))


async def _redis_exchange(
    url: str,
    command: bytes,
    read: Callable[[asyncio.StreamReader], Awaitable[bytes]],
    wait_s: float,
) -> bytes | None:
    """Send one inline command over a raw socket and read its reply with `read`; None when
    Redis does not answer in `wait_s` (the bench needs no Redis client for this)."""
    parts = urlsplit(url)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname or "127.0.0.1", parts.port or 6379), wait_s
        )
    except (OSError, TimeoutError):
        return None
    try:
        writer.write(command)
        await writer.drain()
        return await asyncio.wait_for(read(reader), wait_s)
    except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError):
        return None
    finally:
        writer.close()


async def redis_answers(url: str, wait_s: float = 1.0) -> bool:
    """A PING: +PONG, or -NOAUTH when a password is needed (it answers; the URL carries it)."""
    line = await _redis_exchange(url, b"PING\r\n", lambda reader: reader.readline(), wait_s)
    return line is not None and line.startswith((b"+PONG", b"-NOAUTH"))


async def _bulk_reply(reader: asyncio.StreamReader) -> bytes:
    header = await reader.readline()
    if not header.startswith(b"$"):
        return b""
    return await reader.readexactly(int(header[1:]) + 2)


async def redis_server_pid(url: str, wait_s: float = 1.0) -> int | None:
    """`process_id` from `INFO server` (no password support needed here)."""
    body = await _redis_exchange(url, b"INFO server\r\n", _bulk_reply, wait_s)
    for line in (body or b"").decode(errors="replace").splitlines():
        if line.startswith("process_id:"):
            return int(line.split(":", 1)[1])
    return None
