"""The taskiq broker a service's settings ask for: Redis streams (acknowledged after the run,
unacknowledged messages reclaimed), RabbitMQ (taskiq-aio-pika, a durable quorum queue), or
taskiq's in-process broker (the embedded default: jobs run in the serving process). Not for:
what runs on it (kit.jobs.queue)."""

import time
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from taskiq import AsyncBroker, BrokerMessage, InMemoryBroker

from apiforge.kit.settings import Settings

if TYPE_CHECKING:  # the redis extra is optional: imported when chosen
    from taskiq_redis import RedisStreamBroker

# Read one message per fetch: a worker holds only what it runs, so on SIGTERM every message it
# has not started stays in the queue for the next one (instead of waiting, unacknowledged,
# for `redelivery_after_seconds`).
_FETCH_COUNT = 1
# How often a worker looks for messages a dead worker left unacknowledged.
_RECLAIM_EVERY_SECONDS = 5.0
# A worker killed while holding taskiq-redis's reclaim lock frees it after this long.
_RECLAIM_LOCK_SECONDS = 10.0


def build_broker(settings: Settings) -> AsyncBroker:
    kind = settings.jobs_broker
    url = settings.jobs_broker_url
    jobs = settings.jobs
    # Jobs off send nothing: no broker to connect to.
    if kind == "memory" or not jobs.enabled:
        return InMemoryBroker(max_async_tasks=jobs.concurrency)
    if not url:
        raise ValueError(f"the {kind} job broker needs a URL: set {settings.env_name('jobs.url')}")
    if kind == "redis":
        return _stream_broker()(
            url,
            queue_name=jobs.queue,
            consumer_group_name=jobs.queue,
            # A group created after messages were sent (no process had started yet) reads
            # them too: "$" (taskiq-redis's default) would skip them.
            consumer_id="0",
            xread_count=_FETCH_COUNT,
            idle_timeout=int(jobs.redelivery_after_seconds * 1000),
            unacknowledged_lock_timeout=_RECLAIM_LOCK_SECONDS,
            socket_timeout=settings.redis.socket_timeout + 5,  # xreadgroup blocks 2 s
            socket_connect_timeout=settings.redis.connect_timeout,
        )
    from taskiq_aio_pika import AioPikaBroker
    from taskiq_aio_pika.exchange import Exchange
    from taskiq_aio_pika.queue import Queue

    return AioPikaBroker(
        url,
        qos=jobs.concurrency,
        exchange=Exchange(name=jobs.queue),
        task_queues=[Queue(name=jobs.queue)],
        dead_letter_queue=Queue(name=f"{jobs.queue}.dead_letter"),
    )


def _stream_broker() -> "type[RedisStreamBroker]":
    """taskiq-redis's stream broker, sending on one client (its own `kick` builds a redis-py
    client per message: ~0.2 ms of response-callback table each, on the request path of every
    enqueueing request) and reclaiming abandoned messages every few seconds, not per fetch."""
    from redis.asyncio import Redis
    from taskiq import AckableMessage
    from taskiq_redis import RedisStreamBroker

    class StreamBroker(RedisStreamBroker):
        _sender: Redis | None = None

        async def listen(self) -> AsyncGenerator[AckableMessage, None]:
            """New messages one at a time; every `_RECLAIM_EVERY_SECONDS`, the messages
            another consumer took and never acknowledged for `idle_timeout` (taskiq-redis
            looks for those after every fetch: a locked XAUTOCLAIM per message, which halved
            a worker's throughput)."""
            async with Redis(connection_pool=self.connection_pool) as redis:
                reclaimed_at = 0.0
                while True:
                    # redis-py types its replies loosely: these are lists of (id, fields).
                    fetched: Any = await redis.xreadgroup(
                        self.consumer_group_name,
                        self.consumer_name,
                        {self.queue_name: ">"},
                        block=self.block,
                        noack=False,
                        count=self.count,
                    )
                    for stream, messages in fetched or ():
                        for message_id, fields in messages:
                            yield AckableMessage(
                                data=fields[b"data"],
                                ack=self._ack_generator(id=message_id, queue_name=stream),
                            )
                    if time.monotonic() - reclaimed_at < _RECLAIM_EVERY_SECONDS:
                        continue
                    reclaimed_at = time.monotonic()
                    reply: Any = await redis.xautoclaim(
                        self.queue_name,
                        self.consumer_group_name,
                        self.consumer_name,
                        min_idle_time=self.idle_timeout,
                        count=self.unacknowledged_batch_size,
                    )
                    for message_id, fields in reply[1]:
                        yield AckableMessage(
                            data=fields[b"data"],
                            ack=self._ack_generator(id=message_id, queue_name=self.queue_name),
                        )

        async def kick(self, message: BrokerMessage) -> None:
            if self._sender is None:
                self._sender = Redis(connection_pool=self.connection_pool)
            queue_name = message.labels.get("queue_name") or self.queue_name
            await self._sender.xadd(
                queue_name,
                {b"data": message.message},
                maxlen=self.maxlen,
                approximate=self.approximate,
            )

    return StreamBroker
