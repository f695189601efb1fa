"""Servers with the settings the abuse tests need (low limits, configured origins)."""

from __future__ import annotations

import pytest

from tests.support.server import LiveServer


@pytest.fixture(scope="package")
def configured_server():
    """Origins configured: sockets from https://good.example, the chat framed by a shop."""
    live = LiveServer(
        env={
            "SOCKETIO_CORS_ORIGINS": "https://good.example",
            "WIDGET_ALLOWED_ORIGINS": "https://shop.example,https://www.shop.example",
        }
    ).start()
    yield live
    live.cleanup()
