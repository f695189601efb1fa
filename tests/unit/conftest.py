"""The fast layer: plain pytest against the code itself, no server, no browser.

pytest-django supplies the settings (tests.settings); tests that need the ORM take the
`db` fixture and get Django's in-memory SQLite test database. Everything here runs in
seconds; behaviour seen by clients is proven by the live-server tests beside it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone


class Clock:
    """A controlled `timezone.now()`: stands still until the test moves it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(timezone, "now", fake)
    return fake


class Published(list):
    """Events the domain sent, as (event, data, room), in order."""

    def __init__(self, capture) -> None:
        super().__init__()
        self._capture = capture

    def commit(self, func, *args, **kwargs):
        """Call a domain operation as a request would, then commit: its on_commit
        callbacks run (the test database's own transaction never commits), and an
        operation that raises sends nothing."""
        with self._capture(execute=True):
            return func(*args, **kwargs)

    def named(self, event: str) -> list[tuple[dict, str]]:
        return [(data, room) for name, data, room in self if name == event]


@pytest.fixture
def published(monkeypatch, django_capture_on_commit_callbacks) -> Published:
    from chat.realtime import publishing

    events = Published(django_capture_on_commit_callbacks)
    monkeypatch.setattr(publishing, "publish", lambda event, data, room: events.append((event, data, room)))
    return events


@pytest.fixture
def local_uploads(settings, tmp_path):
    """Uploads on local disk in a fresh directory (the default storage, as in production)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": "/uploads/"},
        },
    }
    return tmp_path
