"""The Telegram control card (issue 13) against the fake Bot API: each thread's first
message in the admin chat is a card with Claim / Resolve / Reopen / Block / Open in panel;
a press does the panel's operation once (even when Telegram delivers it twice), a stale
button or a non-member's press does nothing, and a change made in the panel re-draws the
card. Also /open and /mine."""

from __future__ import annotations

import asyncio
import copy

import pytest

from tests.support.addresses import http_from, socket_from
from tests.support.clients import Recorder, admin_socket
from tests.support.fake_telegram import FakeTelegram, Updates
from tests.support.server import LiveServer
from tests.telegram.conftest import post_update, sent, sign_in_with_telegram, telegram_env

MERT = {"id": 4242, "first_name": "Mert", "username": "mert"}
DENIZ = {"id": 4343, "first_name": "Deniz"}
STRANGER = {"id": 999, "first_name": "Stranger"}


@pytest.fixture(scope="module")
def card_server(fake):
    live = LiveServer(env=telegram_env(fake, TELEGRAM_CARDS="1", SITE_URL="https://desk.example.com")).start()
    yield live
    log = live.log()
    live.cleanup()
    assert "Traceback" not in log and "crashed" not in log, log[-5000:]


@pytest.fixture(scope="module")
def card_admin(card_server, fake):
    return sign_in_with_telegram(card_server.url, fake)


@pytest.fixture(autouse=True)
def members(fake):
    fake.members.update({MERT["id"]: "member", DENIZ["id"]: "administrator"})
    yield
    for user in (MERT, DENIZ):
        fake.members.pop(user["id"], None)


def buttons(call) -> dict[str, dict]:
    """The card's buttons by their text's last word (Claim, Resolve, Reopen, h, panel)."""
    markup = call.params["reply_markup"]
    return {button["text"].split()[-1]: button for row in markup["inline_keyboard"] for button in row}


_addresses = iter(f"127.0.1.{n}" for n in range(10, 250))


async def new_card(server: LiveServer, fake: FakeTelegram, name: str) -> tuple[Recorder, str, object]:
    """A visitor (from an address of their own: blocking one blocks no other) writes their
    first message: returns (visitor, thread id, the card's call)."""
    address = next(_addresses)
    page = http_from(server.url, address)
    page.get("/")
    client = await socket_from(server.url, address, page.cookie_header())
    ack = await client.call("join", {"display_name": name})
    assert ack["ok"] is True, ack
    thread_id = ack["thread_id"]
    ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "first words"}
    )
    assert ack["ok"] is True, ack
    forward = await sent(
        fake,
        lambda c: (
            c.method == "sendMessage"
            and c.params["text"].startswith(f"<b>{name}</b>")  # in a topic, without the short id
            and c.params["text"].endswith("\nfirst words")
        ),
    )
    cards = [
        c
        for c in fake.sent("sendMessage")
        if c.params["text"].startswith("🗂") and f"#{thread_id[:8]}" in c.params["text"]
    ]
    assert len(cards) == 1, [(c.method, c.ok, c.params, c.error) for c in fake.calls[-6:]]
    card = cards[0]
    # The card is the thread's first message in the chat, before the visitor's.
    assert fake.calls.index(card) < fake.calls.index(forward)
    return client, thread_id, card


def press(updates: Updates, card_call, button: dict, user: dict) -> dict:
    return updates.callback(card_call.result, button["callback_data"], user)


def again(update: dict, updates: Updates) -> dict:
    """The same callback query delivered in a second update (Telegram retrying)."""
    updates.update_id += 1
    return {"update_id": updates.update_id, "callback_query": copy.deepcopy(update["callback_query"])}


def life_cycle(update: dict, thread_id: str) -> bool:
    """A thread_updated of this thread's life cycle (not the visitor's context or email)."""
    return update["thread_id"] == thread_id and "status" in update


async def changes_until(panel: Recorder, thread_id: str, count: int) -> list[str]:
    """The thread's life-cycle changes the panel was told of, once there are `count`."""

    def changes() -> list[str]:
        return [d["change"] for d in panel.received("thread_updated") if life_cycle(d, thread_id)]

    await panel.wait_for("thread_updated", lambda d: len(changes()) >= count)
    return changes()


def answers(fake: FakeTelegram, query_id: str) -> list:
    return [c for c in fake.sent("answerCallbackQuery") if str(c.params["callback_query_id"]) == query_id]


def edits_of(fake: FakeTelegram, card_call) -> list:
    return [
        c
        for c in fake.sent("editMessageText")
        if int(c.params["message_id"]) == card_call.result["message_id"]
        and int(c.params["chat_id"]) == card_call.result["chat"]["id"]
    ]


async def edited(fake: FakeTelegram, card_call, needle: str):
    return await sent(
        fake,
        lambda c: (
            c.method == "editMessageText"
            and int(c.params["message_id"]) == card_call.result["message_id"]
            and needle in c.params["text"]
        ),
    )


async def test_the_card_shows_the_thread_and_its_buttons(card_server, fake):
    client, thread_id, card = await new_card(card_server, fake, "Kartlı Ziyaretçi")
    lines = card.params["text"].split("\n")
    assert lines[0] == f"🗂 <b>Kartlı Ziyaretçi</b> · <code>#{thread_id[:8]}</code>"
    assert lines[1:3] == ["Status: 🟢 Open", "Assigned to: nobody"]
    found = buttons(card)
    assert sorted(found) == ["Claim", "Resolve", "h", "panel"]
    assert found["panel"] == {
        "text": "Open in panel",
        "url": f"https://desk.example.com/admin?thread={thread_id}",
    }
    for name in ("Claim", "Resolve", "h"):
        assert len(found[name]["callback_data"].encode()) <= 64
    await client.close()


async def test_claim_pressed_twice_acts_once_and_edits_the_card(card_server, card_admin, fake, updates):
    panel = await admin_socket(card_server.url, card_admin)
    client, thread_id, card = await new_card(card_server, fake, "Twice")
    first = press(updates, card, buttons(card)["Claim"], MERT)
    assert post_update(card_server.url, first).status_code == 200
    assert post_update(card_server.url, again(first, updates)).status_code == 200
    claimed = await panel.wait_for(
        "thread_updated", lambda d: d["thread_id"] == thread_id and d["change"] == "claimed"
    )
    assert claimed["by"]["name"] == "Mert" and claimed["assignee"]["name"] == "Mert"
    redrawn = await edited(fake, card, "Assigned to: Mert")
    assert "Claim" not in buttons(redrawn)
    # A later press on the same path (Resolve on the re-drawn card) arrives after both
    # deliveries of the claim were handled: by then a second claim would have shown.
    resolve = press(updates, card, buttons(redrawn)["Resolve"], MERT)
    post_update(card_server.url, resolve)
    await panel.wait_for(
        "thread_updated", lambda d: d["thread_id"] == thread_id and d["change"] == "resolved"
    )
    changes = [d["change"] for d in panel.received("thread_updated") if life_cycle(d, thread_id)]
    assert changes == ["claimed", "resolved"]
    query_id = first["callback_query"]["id"]
    assert [c.params.get("text") for c in answers(fake, query_id)] == ["You have this conversation."]
    reopened_card = await edited(fake, card, "✅ Resolved")
    assert sorted(buttons(reopened_card)) == ["Reopen", "h", "panel"]
    await panel.close()
    await client.close()


async def test_each_button_does_its_operation_once(card_server, card_admin, fake, updates):
    panel = await admin_socket(card_server.url, card_admin)
    client, thread_id, card = await new_card(card_server, fake, "Every Button")
    current = card
    for button, change, needle in (
        ("Resolve", "resolved", "✅ Resolved"),
        ("Reopen", "reopened", "🟢 Open"),
        ("h", "blocked", "⛔ Blocked until"),
    ):
        update = press(updates, card, buttons(current)[button], DENIZ)
        post_update(card_server.url, update)
        post_update(card_server.url, again(update, updates))
        await panel.wait_for(
            "thread_updated", lambda d, change=change: d["thread_id"] == thread_id and d["change"] == change
        )
        current = await edited(fake, card, needle)
        assert len(answers(fake, update["callback_query"]["id"])) == 1
    # Order: a panel change after the last press (its event) comes after any repeat.
    assert (await panel.call("resolve_thread", {"thread_id": thread_id}))["ok"] is True
    changes = await changes_until(panel, thread_id, 4)
    assert changes == ["resolved", "reopened", "blocked", "resolved"]
    # The blocked visitor is refused from now on.
    refused = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "let me in"}
    )
    assert refused["ok"] is False and refused["code"] == "blocked"
    await panel.close()
    await client.close()


async def test_a_stale_button_answers_that_the_conversation_changed(card_server, card_admin, fake, updates):
    panel = await admin_socket(card_server.url, card_admin)
    client, thread_id, card = await new_card(card_server, fake, "Stale")
    claim = press(updates, card, buttons(card)["Claim"], MERT)
    post_update(card_server.url, claim)
    await panel.wait_for("thread_updated", lambda d: d["thread_id"] == thread_id and d["change"] == "claimed")
    # Deniz still sees the first drawing of the card and presses its Resolve.
    old_resolve = press(updates, card, buttons(card)["Resolve"], DENIZ)
    post_update(card_server.url, old_resolve)
    answer = await sent(
        fake,
        lambda c: (
            c.method == "answerCallbackQuery"
            and str(c.params["callback_query_id"]) == old_resolve["callback_query"]["id"]
        ),
    )
    assert answer.params["text"] == "This conversation has changed."
    # Then a current button acts: the stale press's change would have come before it.
    redrawn = await edited(fake, card, "Assigned to: Mert")
    post_update(card_server.url, press(updates, card, buttons(redrawn)["h"], DENIZ))
    await panel.wait_for("thread_updated", lambda d: d["thread_id"] == thread_id and d["change"] == "blocked")
    changes = [d["change"] for d in panel.received("thread_updated") if life_cycle(d, thread_id)]
    assert changes == ["claimed", "blocked"]
    await panel.close()
    await client.close()


async def test_a_made_up_button_is_refused(card_server, card_admin, fake, updates):
    client, thread_id, card = await new_card(card_server, fake, "Forged")
    data = buttons(card)["Resolve"]["callback_data"]
    forged = data.rsplit(":", 1)[0] + ":AAAAAAAAAAA"
    update = press(updates, card, {"callback_data": forged}, MERT)
    post_update(card_server.url, update)
    answer = await sent(
        fake,
        lambda c: (
            c.method == "answerCallbackQuery"
            and str(c.params["callback_query_id"]) == update["callback_query"]["id"]
        ),
    )
    assert answer.params["text"] == "This button no longer works."
    await client.close()


async def test_a_non_member_press_is_refused(card_server, card_admin, fake, updates):
    panel = await admin_socket(card_server.url, card_admin)
    client, thread_id, card = await new_card(card_server, fake, "Outsider")
    refused = press(updates, card, buttons(card)["Resolve"], STRANGER)
    post_update(card_server.url, refused)
    answer = await sent(
        fake,
        lambda c: (
            c.method == "answerCallbackQuery"
            and str(c.params["callback_query_id"]) == refused["callback_query"]["id"]
        ),
    )
    assert answer.params["text"] == "Only agents of this desk can use these buttons."
    assert answer.params["show_alert"] is True
    # The same button pressed by a member acts; the stranger's press would have come first.
    post_update(card_server.url, press(updates, card, buttons(card)["Resolve"], MERT))
    resolved = await panel.wait_for("thread_updated", lambda d: life_cycle(d, thread_id))
    assert resolved["change"] == "resolved" and resolved["by"]["name"] == "Mert"
    assert [d["change"] for d in panel.received("thread_updated") if life_cycle(d, thread_id)] == ["resolved"]
    await panel.close()
    await client.close()


async def test_a_panel_change_redraws_the_card(card_server, card_admin, fake, updates):
    panel = await admin_socket(card_server.url, card_admin)
    client, thread_id, card = await new_card(card_server, fake, "From The Panel")
    before = len(edits_of(fake, card))
    ack = await panel.call("resolve_thread", {"thread_id": thread_id})
    assert ack["ok"] is True, ack
    redrawn = await edited(fake, card, "✅ Resolved")
    assert sorted(buttons(redrawn)) == ["Reopen", "h", "panel"]
    # The visitor writes again: the thread reopens and the card says so.
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "one more"})
    assert ack["ok"] is True
    reopened = await edited(fake, card, "🟢 Open")
    assert sorted(buttons(reopened)) == ["Claim", "Resolve", "h", "panel"]
    assert len(edits_of(fake, card)) == before + 2
    # The card is not sent again for the thread's later messages.
    assert (
        len([c for c in fake.sent("sendMessage") if c.params["text"].startswith("🗂 <b>From The Panel</b>")])
        == 1
    )
    await panel.close()
    await client.close()


async def test_open_and_mine_list_conversations(card_server, card_admin, fake, updates):
    panel = await admin_socket(card_server.url, card_admin)
    _, mine_id, card = await new_card(card_server, fake, "Ayşe's Visitor")
    _, open_id, _ = await new_card(card_server, fake, "Someone Else's")
    _, done_id, done_card = await new_card(card_server, fake, "Already Done")
    ayse = dict(updates.user)  # who writes Updates.message's messages
    fake.members[ayse["id"]] = "member"
    claim = press(updates, card, buttons(card)["Claim"], ayse)
    post_update(card_server.url, claim)
    post_update(card_server.url, press(updates, done_card, buttons(done_card)["Resolve"], ayse))
    await panel.wait_for("thread_updated", lambda d: d["thread_id"] == done_id and d["change"] == "resolved")
    asking = updates.message(text="/mine")
    post_update(card_server.url, asking)
    listed = await sent(
        fake,
        lambda c: (
            c.method == "sendMessage"
            and c.params.get("reply_parameters", {}).get("message_id") == asking["message"]["message_id"]
        ),
    )
    assert f"#{mine_id[:8]}" in listed.params["text"]
    assert f"#{open_id[:8]}" not in listed.params["text"] and f"#{done_id[:8]}" not in listed.params["text"]
    asking = updates.message(text="/open 30")
    post_update(card_server.url, asking)
    listed = await sent(
        fake,
        lambda c: (
            c.method == "sendMessage"
            and c.params.get("reply_parameters", {}).get("message_id") == asking["message"]["message_id"]
        ),
    )
    assert f"#{mine_id[:8]}" in listed.params["text"] and f"#{open_id[:8]}" in listed.params["text"]
    assert f"#{done_id[:8]}" not in listed.params["text"]
    fake.members.pop(ayse["id"], None)
    await panel.close()
    await asyncio.sleep(0)


async def test_in_a_forum_topic_the_card_is_the_pinned_first_message(fake):
    live = LiveServer(
        env=telegram_env(fake, TELEGRAM_CARDS="1", TELEGRAM_TOPICS="1", SITE_URL="https://desk.example.com")
    )
    await asyncio.to_thread(live.start)
    try:
        client, thread_id, card = await new_card(live, fake, "In A Topic")
        topics = [
            c for c in fake.sent("createForumTopic") if c.params["name"] == f"In A Topic · {thread_id[:8]}"
        ]
        assert len(topics) == 1
        topic_id = topics[0].result["message_thread_id"]
        assert int(card.params["message_thread_id"]) == topic_id
        pinned = await sent(
            fake,
            lambda c: (
                c.method == "pinChatMessage" and int(c.params["message_id"]) == card.result["message_id"]
            ),
        )
        assert int(pinned.params["chat_id"]) == card.result["chat"]["id"]
        forward = next(
            c
            for c in fake.sent("sendMessage")
            if c.params["text"].endswith("\nfirst words") and "In A Topic" in c.params["text"]
        )
        assert int(forward.params["message_thread_id"]) == topic_id
        await client.close()
    finally:
        await asyncio.to_thread(live.cleanup)
