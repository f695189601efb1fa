"""`make run`'s start-up banner (chatdesk.serve) names the pages and, in debug with
Telegram off, where the sign-in code shows."""

from __future__ import annotations

import sys

from tests.support.server import LiveServer


def test_banner_names_the_pages_and_the_development_sign_in(make_server):
    live = make_server(command=[sys.executable, "-m", "chatdesk.serve", "--host", "127.0.0.1"])
    base = live.url
    assert live.log().splitlines()[:5] == [
        f"chatdesk on {base}",
        f"  visitor chat:  {base}/",
        f"  admin sign-in: {base}/login",
        f"  admin panel:   {base}/admin",
        "  Telegram is off and debug is on: the sign-in page shows the code it would have sent.",
    ]


def test_banner_without_the_code_hint_when_telegram_is_on(make_server):
    env = {
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "TELEGRAM_CHAT_ID": "-100",
        "TELEGRAM_API_BASE": "http://127.0.0.1:9",
    }
    live: LiveServer = make_server(
        env=env, command=[sys.executable, "-m", "chatdesk.serve", "--host", "127.0.0.1"]
    )
    lines = live.log().splitlines()
    assert lines[:4] == [
        f"chatdesk on {live.url}",
        f"  visitor chat:  {live.url}/",
        f"  admin sign-in: {live.url}/login",
        f"  admin panel:   {live.url}/admin",
    ]
    assert not any("sign-in page shows the code" in line for line in lines)
