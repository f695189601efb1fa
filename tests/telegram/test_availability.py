"""An agent who writes in the Telegram admin chat makes the desk available to visitors
(AVAILABILITY_TELEGRAM_MINUTES), with no panel open."""

from __future__ import annotations

from tests.support.clients import Browserish, Recorder
from tests.support.server import LiveServer

from .conftest import post_update, telegram_env


async def test_a_message_in_the_admin_chat_makes_the_desk_available(fake, updates):
    live = LiveServer(env=telegram_env(fake, AVAILABILITY_CHECK_SECONDS="1")).start()
    try:
        page = Browserish(live.url)
        page.get("/")
        visitor = await Recorder(live.url, page.cookie_header()).connect()
        ack = await visitor.call("join", {"display_name": "Elif"})
        assert ack["availability"] == {
            "available": False,
            "reason": "no_agent",
            "median_first_response_seconds": None,
        }

        assert post_update(live.url, updates.message(text="/help")).status_code == 200
        available = await visitor.wait_for("availability", lambda d: d["available"] is True, timeout=20)
        assert available["reason"] is None
        assert [d["available"] for d in visitor.received("availability")] == [True]
        await visitor.close()
    finally:
        live.cleanup()
