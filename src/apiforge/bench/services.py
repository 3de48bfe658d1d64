"""The services behind the shop during a bench: the bench database on the local PostgreSQL
(created when missing), its server version, and whether Redis answers."""

import asyncio
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

BENCH_DATABASE = "apiforge_bench"


def bench_database_url(admin_url: str, name: str = BENCH_DATABASE) -> str:
    """`admin_url` with its database replaced by `name`."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def ensure_postgres_database(admin_url: str, name: str = BENCH_DATABASE) -> str:
    """Create database `name` on the server of `admin_url` unless it exists; its URL."""
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                # A name cannot be a bind parameter; quoted, and ours, not user input.
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return bench_database_url(admin_url, name)


async def postgres_version(url: str) -> str | None:
    if not url.startswith("postgresql"):
        return None
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return str(await conn.scalar(text("SHOW server_version")))
    finally:
        await engine.dispose()


async def redis_answers(url: str, wait_s: float = 1.0) -> bool:
    """A PING over a raw socket: the bench needs no Redis client for this."""
    parts = urlsplit(url)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname or "127.0.0.1", parts.port or 6379), wait_s
        )
    except (OSError, TimeoutError):
        return False
    try:
        writer.write(b"PING\r\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), wait_s)
        # +PONG, or -NOAUTH when a password is needed (it answers; the URL carries the password).
        return line.startswith((b"+PONG", b"-NOAUTH"))
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()


async def postgres_server_pid(url: str) -> int | None:
    """The pid of the backend serving a fresh connection (its parent is the postmaster)."""
    if not url.startswith("postgresql"):
        return None
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            pid = await conn.scalar(text("SELECT pg_backend_pid()"))
            return int(pid) if pid is not None else None
    finally:
        await engine.dispose()


async def redis_server_pid(url: str, wait_s: float = 1.0) -> int | None:
    """`process_id` from `INFO server` over a raw socket (no password support needed here)."""
    parts = urlsplit(url)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname or "127.0.0.1", parts.port or 6379), wait_s
        )
    except (OSError, TimeoutError):
        return None
    try:
        writer.write(b"INFO server\r\n")
        await writer.drain()
        header = await asyncio.wait_for(reader.readline(), wait_s)
        if not header.startswith(b"$"):
            return None
        body = await asyncio.wait_for(reader.readexactly(int(header[1:]) + 2), wait_s)
    except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError):
        return None
    finally:
        writer.close()
    for line in body.decode(errors="replace").splitlines():
        if line.startswith("process_id:"):
            return int(line.split(":", 1)[1])
    return None
