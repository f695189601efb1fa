"""The soak's short form: 50 visitors, 2 admins, two processes on PostgreSQL + Redis, 12 s.
(The long form, 1,000 visitors for minutes: `python -m tests.soak.soak`, see README.)"""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.conftest import own_redis  # noqa: F401  (a redis-server of its own)
from tests.production.conftest import services  # noqa: F401  (fresh PostgreSQL database)
from tests.soak.soak import soak
from tests.support.server import LiveServer

pytestmark = pytest.mark.services


async def test_short_soak_loses_and_duplicates_nothing(services, own_redis, tmp_path):  # noqa: F811
    # Both processes share one uploads directory, as in production.
    env = {**services.env, "REDIS_URL": own_redis.url, "UPLOADS_ROOT": str(tmp_path)}
    servers = [LiveServer(env=env, migrate=True), LiveServer(env=env, migrate=False)]
    try:
        for s in servers:
            await asyncio.to_thread(s.start)
        summary = await soak(
            [s.url for s in servers],
            [s.process.pid for s in servers],
            services.database_url,
            visitors=50,
            admins=2,
            duration=12,
            mean_gap=1.5,
            reload_chance=0.1,
        )
    finally:
        for s in servers:
            s.cleanup()
    print(summary)
    assert summary["acked"] > 150 and summary["reloads"] > 0
    assert summary["sent"] == summary["acked"], summary["retries"]
    assert summary["resumed"] == summary["reloads"]
    assert summary["lost"] == 0 and summary["duplicates"] == 0
    assert summary["stored"] == summary["acked"] == summary["delivered_to_every_admin"]
    assert summary["delivered_twice"] == [0, 0]
    assert summary["peak_rss_mb"] < 400
