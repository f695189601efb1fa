"""Log lines cannot be forged through request values, and LOG_FORMAT=json writes JSON."""

from __future__ import annotations

import json
import logging
import re
import time

import requests

from chatdesk.logs import KeyValueFormatter
from tests.support.fake_telegram import FakeTelegram

FORGED = "/no-such-page%0A2026-11-29 10:00:00,000 level=ERROR logger=chatdesk forged_event%0Dip=1.2.3.4"
FORGED_CHAT = "-999\n2026-11-29 10:00:00,000 level=ERROR logger=chatdesk forged_event\rip=1.2.3.4"
DECODED = "/no-such-page\n2026-11-29 10:00:00,000 level=ERROR logger=chatdesk forged_event\rip=1.2.3.4"


def request_then_mark(live) -> list[str]:
    """Ask for the forged path, then for a marker path: once the marker is logged, every
    line the forged request produced is in the log before it."""
    start = len(live.log())
    assert requests.get(live.url + FORGED, timeout=5).status_code == 404
    assert requests.get(live.url + "/marker-after-the-forgery", timeout=5).status_code == 404
    for _ in range(100):
        written = live.log()[start:]
        if "marker-after-the-forgery" in written:
            break
        time.sleep(0.05)
    lines = written.splitlines()
    return lines[: next(i for i, line in enumerate(lines) if "marker-after-the-forgery" in line)]


def test_a_forged_newline_in_a_path_is_logged_as_data_on_one_line(make_server):
    live = make_server()
    lines = request_then_mark(live)
    # daphne's access line carries the path as it came (percent-encoded); ours decoded.
    ours = [line for line in lines if "forged_event" in line and not line.startswith("127.0.0.1:")]
    assert len(ours) == 1, lines
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} level=WARNING logger=django\.request Not Found: "
        + re.escape(DECODED.replace("\n", "\\n").replace("\r", "\\r")),
        ours[0],
    ), ours[0]
    assert not [line for line in lines if line.startswith(("2026-11-29 10:00:00", "ip=1.2.3.4"))]


def test_a_forged_newline_in_a_key_value_line_is_quoted(make_server):
    """chatdesk's own key=value lines: the chat id of a webhook update from another chat is
    logged (`telegram_update_ignored ... chat_id=%s`), whatever it holds."""
    fake = FakeTelegram(token="123:abc").start()
    try:
        live = make_server(
            {
                "TELEGRAM_BOT_TOKEN": "123:abc",
                "TELEGRAM_CHAT_ID": "-1001",
                "TELEGRAM_WEBHOOK_SECRET": "s3cret",
                "TELEGRAM_API_BASE": fake.url,
            }
        )
        start = len(live.log())
        for update_id, chat_id in ((7001, FORGED_CHAT), (7002, "marker-chat")):
            update = {
                "update_id": update_id,
                "message": {"message_id": 1, "chat": {"id": chat_id}, "text": "hi"},
            }
            answer = requests.post(
                live.url + "/telegram/webhook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
                timeout=10,
            )
            assert answer.status_code == 200, answer.text
        for _ in range(200):
            if "marker-chat" in live.log()[start:]:
                break
            time.sleep(0.05)
        lines = live.log()[start:].splitlines()
        ignored = [line for line in lines if "telegram_update_ignored" in line]
        assert len(ignored) == 2, lines
        assert ignored[0].endswith(
            "level=WARNING logger=telegram_bridge.inbound telegram_update_ignored reason=other_chat chat_id="
            + json.dumps(FORGED_CHAT).replace("\\r", "\\r")
        ), ignored[0]
        assert ignored[1].endswith("chat_id=marker-chat")
        assert not [line for line in lines if line.startswith(("2026-11-29 10:00:00", "ip=1.2.3.4"))]
    finally:
        fake.stop()


def test_log_format_json_writes_one_object_per_line(make_server):
    live = make_server({"LOG_FORMAT": "json"})
    lines = request_then_mark(live)
    ours = [line for line in lines if "forged_event" in line and not line.startswith("127.0.0.1:")]
    assert len(ours) == 1, lines
    record = json.loads(ours[0])
    assert (record["level"], record["logger"], record["message"]) == (
        "WARNING",
        "django.request",
        "Not Found: " + DECODED.replace("\n", "\\n").replace("\r", "\\r"),
    )
    assert record["time"][:2] == "20"


def test_values_are_quoted_only_when_they_need_it():
    formatter = KeyValueFormatter("level=%(levelname)s %(message)s")

    def line(msg, *args):
        return formatter.format(logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, None))

    assert line("upload kind=%s ip=%s size=%d", "image", "203.0.113.7", 42) == (
        "level=INFO upload kind=image ip=203.0.113.7 size=42"
    )
    assert line("signin ip=%s", "1.2.3.4 level=ERROR") == 'level=INFO signin ip="1.2.3.4 level=ERROR"'
    assert line("name=%s", 'Ay\u015fe "x"') == 'level=INFO name="Ay\u015fe \\"x\\""'
    assert line("path=%s", "/a\u2028b\x85c") == 'level=INFO path="/a\\u2028b\\u0085c"'
    assert line("empty=%s", "") == 'level=INFO empty=""'
    assert line("reason=%r", "two\nlines") == "level=INFO reason='two\\nlines'"
    assert line("no args but\na newline") == "level=INFO no args but\\na newline"
