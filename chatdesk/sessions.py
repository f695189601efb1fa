"""Sessions in the database with a cache in front, that survive a cache (Redis) outage.

Django's cached_db backend already falls back to the database when a cache read fails,
but not when the cache write after that read fails, nor in exists() or delete(): with
Redis down, every signed-in admin would be refused. Here the database always answers.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends import cached_db
from redis.exceptions import RedisError

logger = logging.getLogger("chatdesk.sessions")


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            return super().load()
        except RedisError:
            logger.warning("session_cache_unavailable op=load")
            s = self._get_session_from_db()
            return self.decode(s.session_data) if s else {}

    def exists(self, session_key):
        try:
            return super().exists(session_key)
        except RedisError:
            logger.warning("session_cache_unavailable op=exists")
            return cached_db.DBStore.exists(self, session_key)

    def delete(self, session_key=None):
        try:
            super().delete(session_key)
        except RedisError:
            logger.warning("session_cache_unavailable op=delete")
            cached_db.DBStore.delete(self, session_key)
