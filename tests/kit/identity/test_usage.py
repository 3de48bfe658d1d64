"""Last-used stamps of API keys across workers: with Redis, two processes' recorders write a
key's use once per interval between them; without, each writes at most once per interval."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from apiforge.kit.identity.usage import ApiKeyUsage


class Recorded:
    def __init__(self) -> None:
        self.batches: list[dict[str, datetime]] = []

    async def __call__(self, used: Mapping[str, datetime]) -> None:
        self.batches.append(dict(used))


async def test_two_workers_sharing_redis_write_a_key_once(redis_client: Any) -> None:
    recorded = Recorded()
    workers = [ApiKeyUsage(recorded, redis=redis_client, key_prefix="test:") for _ in range(2)]
    for worker in workers:
        worker.mark("key1")
        worker.mark("key2")
        await worker.flush()
    written = [key for batch in recorded.batches for key in batch]
    assert sorted(written) == ["key1", "key2"]


async def test_without_redis_each_key_is_written_at_most_once_per_interval() -> None:
    recorded = Recorded()
    usage = ApiKeyUsage(recorded, every_seconds=60)
    for _ in range(100):
        usage.mark("key1")
    await usage.flush()
    usage.mark("key1")
    await usage.flush()
    assert [list(batch) for batch in recorded.batches] == [["key1"]]


async def test_a_failing_recorder_does_not_stop_the_next_flush() -> None:
    calls: list[Mapping[str, datetime]] = []

    async def flaky(used: Mapping[str, datetime]) -> None:
        calls.append(used)
        if len(calls) == 1:
            raise RuntimeError("database down")

    usage = ApiKeyUsage(flaky, every_seconds=0)
    usage.mark("key1")
    await usage.flush()
    usage.mark("key1")
    await usage.flush()
    assert len(calls) == 2
