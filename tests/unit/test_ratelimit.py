"""chatdesk/ratelimit.py: fixed windows counted where no cache eviction resets them
(the database, or Redis when configured), falling back to the database while Redis is down."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.core.cache import cache

from accounts.models import LimitCounter
from chatdesk import ratelimit, redis_client

pytestmark = pytest.mark.django_db

REDIS_TEST_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture(autouse=True)
def fresh_redis_client(monkeypatch):
    """Each test builds its own client for the REDIS_URL it sets."""
    monkeypatch.setattr(redis_client, "_client", None)


def test_counts_in_the_database_without_redis(settings):
    settings.REDIS_URL = ""
    assert [ratelimit.hit("t", "k", 3, 60) for _ in range(5)] == [True, True, True, False, False]
    assert ratelimit.count("t", "k", 60) == 5
    assert ratelimit.hit("t", "other", 3, 60) is True
    assert ratelimit.count("t", "other", 60) == 1
    assert LimitCounter.objects.count() == 2


def test_an_emptied_cache_does_not_reset_a_count(settings):
    settings.REDIS_URL = ""
    ratelimit.hit("t", "k", 2, 60)
    ratelimit.hit("t", "k", 2, 60)
    cache.clear()  # what a flood of page views did to the local-memory cache
    assert ratelimit.hit("t", "k", 2, 60) is False
    assert ratelimit.count("t", "k", 60) == 3


def test_amounts_add_up(settings):
    settings.REDIS_URL = ""
    assert ratelimit.hit("bytes", "k", 100, 60, amount=60) is True
    assert ratelimit.hit("bytes", "k", 100, 60, amount=60) is False
    assert ratelimit.count("bytes", "k", 60) == 120


def test_a_new_window_starts_from_zero(settings, monkeypatch):
    settings.REDIS_URL = ""
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    assert [ratelimit.hit("t", "k", 1, 60) for _ in range(2)] == [True, False]
    assert ratelimit.retry_after(60) == 1_000_020 - 1_000_000 + 1
    now[0] = 1_000_020.0  # the next minute
    assert ratelimit.hit("t", "k", 1, 60) is True


def test_redis_down_falls_back_to_the_database(settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    assert [ratelimit.hit("t", "k", 1, 60) for _ in range(2)] == [True, False]
    assert ratelimit.count("t", "k", 60) == 2
    assert LimitCounter.objects.get().count == 2


def test_counts_in_redis_when_configured(settings):
    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.REDIS_URL = REDIS_TEST_URL
    scope = f"test-{uuid.uuid4().hex}"
    assert [ratelimit.hit(scope, "k", 2, 60) for _ in range(3)] == [True, True, False]
    assert ratelimit.count(scope, "k", 60) == 3
    assert LimitCounter.objects.count() == 0
    keys = redis_client.get().keys(f"chatdesk:rl:{scope}:*")
    assert len(keys) == 1 and 0 < redis_client.get().ttl(keys[0]) <= 61
    redis_client.get().delete(*keys)


def test_hot_counts_without_redis_stay_in_the_process_and_restart_each_window(settings, monkeypatch):
    """Every visitor message is counted: without Redis (one server process) in memory,
    several at once for a group, the first ones within the limit."""
    settings.REDIS_URL = ""
    now = [2_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    key = uuid.uuid4().hex
    assert ratelimit.hit_hot("messages", key, 5, 60, 3) == 3
    assert ratelimit.hit_hot("messages", key, 5, 60, 3) == 2
    assert ratelimit.hit_hot("messages", key, 5, 60) == 0
    assert ratelimit.hit_hot("messages", "another address", 5, 60) == 1
    assert LimitCounter.objects.count() == 0
    now[0] += 60  # the next minute: a fresh budget, the old window's entries gone
    assert ratelimit.hit_hot("messages", key, 5, 60, 6) == 5
    assert [slot[1] for slot in ratelimit._in_process if slot[0] == "messages"] == [key]


def test_hot_counts_with_redis_are_shared_in_redis(settings):
    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.REDIS_URL = REDIS_TEST_URL
    scope = f"test-{uuid.uuid4().hex}"
    assert ratelimit.hit_hot(scope, "k", 4, 60, 3) == 3
    assert ratelimit.hit_hot(scope, "k", 4, 60, 3) == 1
    assert ratelimit.count(scope, "k", 60) == 6
    redis_client.get().delete(*redis_client.get().keys(f"chatdesk:rl:{scope}:*"))
