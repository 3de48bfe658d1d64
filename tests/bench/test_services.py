"""The services the bench looks at: the bench database, versions, pids, and pinning them."""

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from apiforge.bench.affinity import parent_of, pinned_processes, with_children
from apiforge.bench.services import (
    analyze_postgres,
    bench_database_url,
    ensure_postgres_database,
    postgres_server_pid,
    postgres_version,
    redis_answers,
    redis_server_pid,
)
from apiforge.bench.targets import free_port
from apiforge.kit.testing.services import drop_postgres_database


def _fake_proc(tmp_path: Path, parents: dict[int, int]) -> Path:
    for pid, parent in parents.items():
        (tmp_path / str(pid)).mkdir()
        # A command name with spaces and a parenthesis, as real ones can have.
        (tmp_path / str(pid) / "stat").write_text(f"{pid} (postgres: a) b) S {parent} 1 1\n")
    (tmp_path / "self").mkdir()
    return tmp_path


def test_process_tree_from_proc(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path, {10: 1, 11: 10, 12: 10, 13: 11})
    assert parent_of(11, proc) == 10
    assert parent_of(99, proc) is None
    assert sorted(with_children(10, proc)) == [10, 11, 12]


def test_pinning_is_undone() -> None:
    before = os.sched_getaffinity(0)
    core = min(before)
    with pinned_processes([os.getpid(), 2**22 + 12345], core) as pinned:
        assert pinned == [os.getpid()]  # the pid that does not exist is skipped
        assert os.sched_getaffinity(0) == {core}
    assert os.sched_getaffinity(0) == before


def test_bench_database_url() -> None:
    url = bench_database_url("postgresql+asyncpg://u:p@h:5/postgres")
    assert url == "postgresql+asyncpg://u:p@h:5/apiforge_bench"


async def test_postgres(postgres_admin: str) -> None:
    name = f"apiforge_bench_test_{os.getpid()}"
    url = await ensure_postgres_database(postgres_admin, name)
    try:
        assert url.endswith(f"/{name}")
        assert await ensure_postgres_database(postgres_admin, name) == url  # exists: kept
        await _a_table_never_analyzed(url)
        assert await ensure_postgres_database(postgres_admin, name, recreate=True) == url
        assert not await _has_rows_table(url)  # recreated: empty
        version = await postgres_version(url)
        assert version is not None
        assert version[:2].isdigit()
        backend = await postgres_server_pid(url)
        assert backend is not None
        await _a_table_never_analyzed(url)
        assert await analyze_postgres(url)
        assert await _analyzed(url)
    finally:
        await drop_postgres_database(postgres_admin, name)
    assert await postgres_version("sqlite+aiosqlite:///x.db") is None
    assert await postgres_server_pid("sqlite+aiosqlite:///x.db") is None
    assert not await analyze_postgres("sqlite+aiosqlite:///x.db")


async def _a_table_never_analyzed(url: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TABLE rows AS SELECT generate_series(1, 500) AS n"))
    finally:
        await engine.dispose()
    assert not await _analyzed(url)


async def _has_rows_table(url: str) -> bool:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return bool(await conn.scalar(text("SELECT to_regclass('rows') IS NOT NULL")))
    finally:
        await engine.dispose()


async def _analyzed(url: str) -> bool:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            last = await conn.scalar(
                text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'rows'")
            )
    finally:
        await engine.dispose()
    return last is not None


async def test_redis(redis_url: str) -> None:
    assert await redis_answers(redis_url)
    pid = await redis_server_pid(redis_url)
    assert pid is not None
    assert pid > 0
    nothing = f"redis://127.0.0.1:{free_port()}"
    assert not await redis_answers(nothing)
    assert await redis_server_pid(nothing) is None


@pytest.mark.parametrize("reply", [b"-ERR nope\r\n", b"PONG?\r\n"])
async def test_a_server_that_is_not_redis(reply: bytes) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        assert not await redis_answers(f"redis://127.0.0.1:{port}")
        assert await redis_server_pid(f"redis://127.0.0.1:{port}") is None
