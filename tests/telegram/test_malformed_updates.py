"""A webhook update whose fields are not what the Bot API sends is refused input: the
admin who sent it is told, the handler does not crash, later updates go on (issue 18)."""

from __future__ import annotations

import requests

from tests.support.clients import visitor

from .conftest import SECRET, outbox_empty, post_update, sent


async def test_a_reply_with_a_malformed_photo_is_refused_with_a_notice_and_the_next_one_delivered(
    tg_server, fake, updates
):
    client, thread_id = await visitor(tg_server.url, "Malformed")
    assert (await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "pic?"}))[
        "ok"
    ]
    forwarded = await sent(fake, lambda c: c.method == "sendMessage" and "pic?" in c.params["text"])
    await outbox_empty(tg_server.url)
    visitor_message_id = forwarded.result["message_id"]

    malformed = []
    for photo in (["file_77"], [{"file_id": "file_7"}, 12], [None]):
        bad = updates.message(reply_to=visitor_message_id, photo=photo)
        malformed.append(bad["update_id"])
        assert post_update(tg_server.url, bad).status_code == 200
        notice = await sent(
            fake,
            lambda c, bad=bad: (
                c.method == "sendMessage"
                and c.params.get("reply_parameters", {}).get("message_id") == bad["message"]["message_id"]
            ),
        )
        assert notice.params["text"].startswith("Not delivered")
    # Handled in order: once this reply arrived, the malformed ones were handled before it.
    post_update(tg_server.url, updates.message(reply_to=visitor_message_id, text="here it is"))
    got = await client.wait_for("message_from_admin", timeout=10)
    assert got["content_text"] == "here it is"
    assert [m["content_text"] for m in client.received("message_from_admin")] == ["here it is"]
    log = tg_server.log()
    assert "telegram_update_crashed" not in log and "outcome=error" not in log
    for update_id in malformed:
        assert f"telegram_update update_id={update_id} outcome=refused" in log
    await client.close()


def test_a_webhook_body_nested_too_deeply_is_a_400_not_a_crash(tg_server):
    answer = requests.post(
        tg_server.url + "/telegram/webhook",
        data="[" * 100_000 + "]" * 100_000,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json() == {"success": False, "error": answer.json()["error"], "code": "nested_too_deep"}
