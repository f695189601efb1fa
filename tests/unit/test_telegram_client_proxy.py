"""The Bot API client goes through the proxy the environment names (HTTPS_PROXY /
HTTP_PROXY, NO_PROXY), as requests does by default: a server that reaches Telegram only
through its company's proxy keeps working although the client reads those settings once,
when it is made, instead of at every call (issue 16)."""

from __future__ import annotations

import json

import pytest

from telegram_bridge.client import TelegramClient, TelegramError
from tests.support import local_http

# Never resolved: only the proxy can answer for it (.invalid is reserved, RFC 2606).
API_BASE = "http://api.telegram.invalid"


@pytest.fixture
def proxy():
    """An HTTP proxy on 127.0.0.1 that answers every request itself, as Telegram would,
    and records the absolute URLs it was asked for."""
    asked: list[str] = []

    def handle(request):
        asked.append(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        params = json.loads(request.rfile.read(length) or b"{}")
        body = json.dumps({"ok": True, "result": {"message_id": 7, "chat": {"id": params["chat_id"]}}})
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body.encode())

    server = local_http.serve(handle)
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    local_http.stop(server)


@pytest.fixture
def no_proxy_settings(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_calls_go_through_the_proxy_the_environment_names(proxy, no_proxy_settings):
    url, asked = proxy
    no_proxy_settings.setenv("HTTP_PROXY", url)
    client = TelegramClient("123:proxy", API_BASE)
    for _ in range(2):
        assert client.call("sendMessage", chat_id=-100, text="hi")["message_id"] == 7
    assert asked == [f"{API_BASE}/bot123:proxy/sendMessage"] * 2


def test_a_host_the_environment_exempts_is_called_directly(proxy, no_proxy_settings):
    url, asked = proxy
    no_proxy_settings.setenv("HTTP_PROXY", url)
    no_proxy_settings.setenv("NO_PROXY", "api.telegram.invalid")
    client = TelegramClient("123:proxy", API_BASE, timeout=2.0)
    with pytest.raises(TelegramError, match="unreachable"):
        client.call("sendMessage", chat_id=-100, text="hi")
    assert asked == []
