"""The Redis manager's publishing (chat/realtime/server.py, ResilientRedisManager): events
published while a send is on its way go together in one pipeline, every one reaches the
other processes, in publishing order; with Redis gone they are dropped and logged, and
no emitter waits forever."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import redis
import redis.asyncio

from chat.realtime.server import ResilientRedisManager

REDIS_TEST_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_up():
    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.fail("these tests need Redis on 127.0.0.1:6379 (DEVELOPERS.md)")


def manager(url: str, channel: str) -> tuple[ResilientRedisManager, list[int]]:
    """A manager publishing on `channel`, and the sizes of the batches it sent."""
    publisher = ResilientRedisManager(url, channel=channel, write_only=True)
    batches: list[int] = []
    send = publisher._publish_together

    async def counted(batch):
        batches.append(len(batch))
        await send(batch)

    publisher._publish_together = counted
    return publisher, batches


def test_events_published_together_arrive_in_order_in_fewer_round_trips(redis_up):
    channel = f"chatdesk-test-{uuid.uuid4().hex}"

    async def scenario():
        listener = redis.asyncio.Redis.from_url(REDIS_TEST_URL)
        pubsub = listener.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)
        assert (await pubsub.get_message(timeout=5)) is None  # the subscription confirmed
        publisher, batches = manager(REDIS_TEST_URL, channel)
        # As emit_published does with Redis: one task per event, none awaited in turn.
        await asyncio.gather(*(publisher._publish({"method": "emit", "n": n}) for n in range(200)))
        received = []
        deadline = asyncio.get_running_loop().time() + 10
        while len(received) < 200 and asyncio.get_running_loop().time() < deadline:
            message = await pubsub.get_message(timeout=1)  # None for the subscription's own
            if message is not None:
                received.append(json.loads(message["data"])["n"])
        await pubsub.aclose()
        await listener.aclose()
        await publisher.redis.aclose()
        return received, batches

    received, batches = asyncio.run(scenario())
    assert received == list(range(200))
    assert sum(batches) == 200
    assert len(batches) < 10  # not one round trip per event


def test_with_redis_gone_events_are_dropped_and_no_emitter_waits(redis_up, caplog):
    async def scenario():
        publisher, batches = manager("redis://127.0.0.1:9/0", "chatdesk-test")  # nothing listens there
        await asyncio.wait_for(asyncio.gather(*(publisher._publish({"n": n}) for n in range(5))), 30)
        return batches

    batches = asyncio.run(scenario())
    assert sum(batches) == 5
    assert "redis_publish_failed" in caplog.text and "dropped" in caplog.text
