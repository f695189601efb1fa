"""An item that takes several calls is never sent twice in part (issue 15).

A long text goes in two messages; when the second call fails (429, 500), the retry
sends the second part only. Seen before: 4 sendMessage calls for a 2-part text after
one 429, the first part twice.
"""

from __future__ import annotations

import pytest

from tests.file_uploads import samples
from tests.support.clients import visitor

from .conftest import outbox_empty, sent, upload, visitor_with_page


def thread_calls(fake, thread_id: str, before: int) -> list:
    return [
        c
        for c in fake.calls[before:]
        if f"#{thread_id[:8]}" in str(c.params.get("text") or c.params.get("caption"))
    ]


@pytest.mark.parametrize(("status", "retry_after"), [(429, 1), (500, None)])
async def test_a_two_part_text_whose_second_call_fails_once_sends_each_part_once(
    tg_server, fake, status, retry_after
):
    client, thread_id = await visitor(tg_server.url, f"Long {status}")
    # A first message first: the thread's first forward also carries the visitor's context.
    hello = {"thread_id": thread_id, "type": "text", "text": "hello"}
    assert (await client.call("message_to_admin", hello))["ok"] is True
    await sent(fake, lambda c: c.ok and f"#{thread_id[:8]}" in str(c.params.get("text")), timeout=20)
    await outbox_empty(tg_server.url)
    before = len(fake.calls)
    # 1,500 "<" are 6,000 characters once escaped: two messages.
    text = "part-one " + "<" * 1500 + " part-two"
    fake.fail(
        "sendMessage",
        1,
        status=status,
        retry_after=retry_after,
        when=lambda params: (
            f"#{thread_id[:8]}" in str(params.get("text")) and "part-two" in str(params.get("text"))
        ),
    )
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
    assert ack["ok"], ack
    await sent(fake, lambda c: c.ok and "part-two" in str(c.params.get("text")), timeout=20)
    await outbox_empty(tg_server.url, timeout=20)
    calls = thread_calls(fake, thread_id, before)
    shape = [(c.method, c.ok, "part-one" in c.params["text"], "part-two" in c.params["text"]) for c in calls]
    assert shape == [
        ("sendMessage", True, True, False),  # the first part, once
        ("sendMessage", False, False, True),  # the second, refused
        ("sendMessage", True, False, True),  # the second again: only it
    ]
    # Together the two messages carry the text once, in order.
    pieces = [c.params["text"].split("\n", 1)[1] for c in calls if c.ok]
    assert "".join(pieces).replace("&lt;", "<") == text
    await client.close()


async def test_a_photo_whose_caption_overflows_resumes_after_the_photo(tg_server, fake):
    client, thread_id, page = await visitor_with_page(tg_server.url, "Long caption")
    await outbox_empty(tg_server.url)
    before = len(fake.calls)
    url = upload(page, "image", samples.png(), "cat.png")
    text = "caption-start " + "x" * 1500 + " caption-end"
    fake.fail("sendMessage", 1, status=500, when=lambda params: "caption-end" in str(params.get("text")))
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "image", "file_url": url, "text": text}
    )
    assert ack["ok"], ack
    await sent(fake, lambda c: c.ok and "caption-end" in str(c.params.get("text")), timeout=20)
    await outbox_empty(tg_server.url, timeout=20)
    calls = thread_calls(fake, thread_id, before)
    assert [(c.method, c.ok) for c in calls] == [
        ("sendPhoto", True),
        ("sendMessage", False),
        ("sendMessage", True),
    ]
    await client.close()


@pytest.fixture(scope="module")
def paced_server(fake):
    from tests.support.server import LiveServer

    from .conftest import telegram_env

    live = LiveServer(env=telegram_env(fake, TELEGRAM_SEND_INTERVAL_MS="800")).start()
    yield live
    log = live.log()
    live.cleanup()
    assert "Traceback" not in log and "crashed" not in log, log[-5000:]


async def test_the_parts_of_one_item_are_paced_like_separate_messages(paced_server, fake):
    client, thread_id = await visitor(paced_server.url, "Paced")
    await outbox_empty(paced_server.url)
    before = len(fake.calls)
    text = "part-one " + "<" * 1500 + " part-two"
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
    assert ack["ok"], ack
    await sent(
        fake, lambda c: c.ok and "part-two" in str(c.params.get("text")) and "Paced" in c.params["text"]
    )
    first, second = thread_calls(fake, thread_id, before)
    # TELEGRAM_SEND_INTERVAL_MS apart, as two messages would be (not back to back).
    assert second.at - first.at >= 0.75
    await client.close()
