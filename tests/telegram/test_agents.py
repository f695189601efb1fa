"""Named agents through Telegram (issue 13, part A), against the fake Bot API:
"Sign in as me" and "Approve" on the code message sign in the presser's agent, a
non-member's press is refused, codes by @username go to the agent's private chat, and
replies carry their author both ways (panel → visitor and Telegram mirror, Telegram →
visitor)."""

from __future__ import annotations

import asyncio
import re

from tests.support.clients import Browserish, admin_socket, visitor

from .conftest import CHAT_ID, outbox_empty, post_update, sent


def code_message(fake, before: int, chat_id: int = CHAT_ID):
    """The bot's sign-in code message sent after call number `before`: (call, code, buttons)."""
    call = fake.wait_for(
        lambda c: (
            c.method == "sendMessage"
            and "sign-in code" in str(c.params.get("text"))
            and str(c.params.get("chat_id")) == str(chat_id)
            and fake.calls.index(c) >= before
        )
    )
    code = re.search(r"<code>(\d{6})</code>", call.params["text"]).group(1)
    markup = call.params.get("reply_markup") or {}
    buttons = {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}
    return call, code, buttons


def ask_for_code(base_url: str, fake, **body):
    http = Browserish(base_url)
    http.get("/login")
    before = len(fake.calls)
    answer = http.post("/request-otp", json=body)
    return http, answer, before


def press(fake, base_url: str, updates, call, data: str, user: dict):
    """`user` presses the button `data` of the message `call` sent; returns the
    answerCallbackQuery call the bot made for it."""
    update = updates.callback(call.result, data, user)
    assert post_update(base_url, update).status_code == 200
    query_id = update["callback_query"]["id"]
    return fake.wait_for(
        lambda c: c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query_id
    )


def edited(fake, call, needle: str):
    message_id = call.result["message_id"]
    return fake.wait_for(
        lambda c: (
            c.method == "editMessageText"
            and c.params.get("message_id") == message_id
            and needle in str(c.params.get("text"))
        )
    )


def person(updates, offset: int, first_name: str, username: str | None = None) -> dict:
    user = {"id": updates.user["id"] + offset, "is_bot": False, "first_name": first_name}
    if username:
        user["username"] = username
    return user


def test_two_agents_sign_in_as_themselves_with_sign_in_as_me(tg_server, fake, updates):
    ayse = person(updates, 1, "Ayşe", "ayse_k")
    mert = person(updates, 2, "Mert")
    fake.members[ayse["id"]] = "member"
    fake.members[mert["id"]] = "administrator"
    signed_in = {}
    for who in (ayse, mert):
        http, answer, before = ask_for_code(tg_server.url, fake)
        assert answer.json() == {"success": True, "message": "OTP Telegram'a gönderildi", "approvable": True}
        call, code, buttons = code_message(fake, before)
        assert set(buttons) == {"Sign in as me", "Approve"}
        assert all(len(data.encode()) <= 64 for data in buttons.values())
        answered = press(fake, tg_server.url, updates, call, buttons["Sign in as me"], who)
        assert answered.params["text"] == f"The code signs in {who['first_name']}."
        # Before the code is typed the message says whose it is, still showing the code.
        claimed = edited(fake, call, f"Code for <b>{who['first_name']}</b>")
        assert code in claimed.params["text"]
        result = http.post("/verify-otp", json={"otp": code})
        assert result.status_code == 200, result.text
        agent = result.json()["agent"]
        assert agent["name"] == who["first_name"] and agent["avatar_url"] is None
        edited(fake, call, f"Signed in: <b>{who['first_name']}</b>")
        signed_in[who["first_name"]] = (http, agent)
    # Each session is its own agent, as the desk API sees it.
    for http, agent in signed_in.values():
        assert http.get("/api/desk").json()["me"] == agent
    assert signed_in["Ayşe"][1]["id"] != signed_in["Mert"][1]["id"]


def test_approve_signs_the_waiting_browser_in_once(tg_server, fake, updates):
    approver = person(updates, 1, "Deniz")
    fake.members[approver["id"]] = "member"
    http, answer, before = ask_for_code(tg_server.url, fake)
    call, code, buttons = code_message(fake, before)
    assert http.post("/login/approval").json() == {"success": True, "approved": False}
    # Another browser (without this code) learns nothing and gets nothing.
    stranger = Browserish(tg_server.url)
    stranger.get("/login")
    assert stranger.post("/login/approval").json()["code"] == "code_not_requested"
    answered = press(fake, tg_server.url, updates, call, buttons["Approve"], approver)
    assert answered.params["text"] == "Approved: the browser signs in as Deniz."
    result = http.post("/login/approval")
    assert result.status_code == 200, result.text
    body = result.json()
    assert body == {"success": True, "redirect": "/admin", "agent": body["agent"]}
    assert body["agent"]["name"] == "Deniz"
    assert http.get("/api/threads").status_code == 200
    assert stranger.get("/api/threads").status_code == 401
    edited(fake, call, "Signed in: <b>Deniz</b>")
    # Single use: the approval (and the code) are spent.
    assert http.post("/login/approval").json()["code"] == "code_not_requested"
    assert http.post("/verify-otp", json={"otp": code}).json()["code"] in {"code_not_requested", "code_wrong"}


def test_a_non_member_press_is_refused_and_claims_nothing(tg_server, fake, updates):
    outsider = person(updates, 1, "Outsider")  # not in fake.members: getChatMember says "left"
    member = person(updates, 2, "Selin")
    fake.members[member["id"]] = "member"
    http, _, before = ask_for_code(tg_server.url, fake)
    call, code, buttons = code_message(fake, before)
    for button in ("Sign in as me", "Approve"):
        answered = press(fake, tg_server.url, updates, call, buttons[button], outsider)
        assert answered.params["text"] == "Only members of the admin chat can sign in."
        assert answered.params["show_alert"] is True
    assert http.post("/login/approval").json() == {"success": True, "approved": False}
    # A member may still claim it: the outsider's presses changed nothing.
    answered = press(fake, tg_server.url, updates, call, buttons["Sign in as me"], member)
    assert answered.params["text"] == "The code signs in Selin."
    result = http.post("/verify-otp", json={"otp": code})
    assert result.json()["agent"]["name"] == "Selin"
    names = [a["name"] for a in http.get("/api/desk").json()["agents"]]
    assert "Outsider" not in names and "Selin" in names


def test_a_code_by_username_goes_to_the_agents_private_chat(tg_server, fake, updates):
    kerem = person(updates, 1, "Kerem", f"kerem{updates.user['id']}")
    fake.members[kerem["id"]] = "member"
    # Before /start the bot cannot reach Kerem: the same refusal as for nobody at all.
    _, unknown, _ = ask_for_code(tg_server.url, fake, agent="@nobody_here_at_all")
    assert unknown.status_code == 409 and unknown.json()["code"] == "agent_unreachable"
    assert post_update(tg_server.url, updates.private(kerem, "/start")).status_code == 200
    fake.wait_for(
        lambda c: (
            c.method == "sendMessage"
            and c.params.get("chat_id") == kerem["id"]
            and "linked as a chatdesk agent" in c.params["text"]
        )
    )
    http, answer, before = ask_for_code(tg_server.url, fake, agent=f"@{kerem['username'].upper()}")
    assert answer.status_code == 200, answer.text
    call, code, buttons = code_message(fake, before, chat_id=kerem["id"])
    assert "for <b>Kerem</b>" in call.params["text"]
    assert set(buttons) == {"Approve"}  # the code is Kerem's already
    result = http.post("/verify-otp", json={"otp": code})
    assert result.json()["agent"]["name"] == "Kerem"
    # A stranger's /start links nothing.
    stranger = person(updates, 2, "Stranger", "stranger_x")
    assert post_update(tg_server.url, updates.private(stranger, "/start")).status_code == 200
    fake.wait_for(
        lambda c: (
            c.method == "sendMessage"
            and c.params.get("chat_id") == stranger["id"]
            and "only members of its admin chat" in c.params["text"]
        )
    )
    _, refused, _ = ask_for_code(tg_server.url, fake, agent="@stranger_x")
    assert refused.json()["code"] == "agent_unreachable"


def sign_in_as(base_url: str, fake, updates, user: dict) -> Browserish:
    fake.members[user["id"]] = "member"
    http, _, before = ask_for_code(base_url, fake)
    call, code, buttons = code_message(fake, before)
    press(fake, base_url, updates, call, buttons["Sign in as me"], user)
    result = http.post("/verify-otp", json={"otp": code})
    assert result.json()["agent"]["name"] == user["first_name"], result.text
    return http


async def test_replies_carry_their_author_both_ways(tg_server, fake, updates):
    ayse = person(updates, 1, "Ayşe")
    http = await asyncio.to_thread(sign_in_as, tg_server.url, fake, updates, ayse)
    panel = await admin_socket(tg_server.url, http)
    client, thread_id = await visitor(tg_server.url, "Author check")
    # A panel reply: the visitor, the panels and the ack carry the agent.
    ack = await panel.call(
        "message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "Merhaba, ben Ayşe"}
    )
    agent = ack["message"]["agent"]
    assert agent == {"id": agent["id"], "name": "Ayşe", "avatar_url": None}
    to_visitor = await client.wait_for("message_from_admin")
    assert to_visitor["agent"] == agent
    synced = await panel.wait_for("message_from_telegram", lambda d: d["thread_id"] == thread_id)
    assert synced["agent"] == agent
    # The Telegram mirror names her.
    mirror = await sent(
        fake, lambda c: c.method == "sendMessage" and "Merhaba, ben Ayşe" in str(c.params.get("text"))
    )
    assert "Ayşe (panel)" in mirror.params["text"]
    # A reply written in Telegram is the writer's: Mert, created on first use.
    visitor_ack = await client.call(
        "message_to_admin", {"thread_id": thread_id, "type": "text", "text": "Teşekkürler"}
    )
    assert visitor_ack["ok"] and "agent" not in visitor_ack["message"]
    forwarded = await sent(
        fake, lambda c: c.method == "sendMessage" and str(c.params.get("text")).endswith("\nTeşekkürler")
    )
    await outbox_empty(tg_server.url)  # the forward's link is stored once it is sent
    mert = person(updates, 2, "Mert", "mert_t")
    reply = updates.message(reply_to=forwarded.result["message_id"], text="Rica ederim", **{"from": mert})
    assert post_update(tg_server.url, reply).status_code == 200
    from_telegram = await client.wait_for(
        "message_from_admin", lambda d: d["content_text"] == "Rica ederim", timeout=10
    )
    assert from_telegram["agent"]["name"] == "Mert"
    assert from_telegram["agent"]["id"] != agent["id"]
    # The history says the same.
    history = http.get(f"/api/messages?thread_id={thread_id}").json()
    authors = [(m["content_text"], m.get("agent") and m["agent"]["name"]) for m in history]
    assert authors == [("Merhaba, ben Ayşe", "Ayşe"), ("Teşekkürler", None), ("Rica ederim", "Mert")]
    assert "agent" not in history[1]
    await client.close()
    await panel.close()


async def test_one_agent_sees_the_other_typing_and_viewing(tg_server, fake, updates):
    ayse, mert = person(updates, 1, "Ayşe"), person(updates, 2, "Mert")
    ayse_http = await asyncio.to_thread(sign_in_as, tg_server.url, fake, updates, ayse)
    mert_http = await asyncio.to_thread(sign_in_as, tg_server.url, fake, updates, mert)
    ayse_panel = await admin_socket(tg_server.url, ayse_http)
    mert_panel = await admin_socket(tg_server.url, mert_http)
    client, thread_id = await visitor(tg_server.url, "Typing check")
    assert await mert_panel.call("viewing", {"thread_id": thread_id}) == {"ok": True}
    seen = await ayse_panel.wait_for("agent_viewing")
    assert seen == {"thread_id": thread_id, "viewing": True, "agent": seen["agent"]}
    assert seen["agent"]["name"] == "Mert"
    assert await mert_panel.call("typing", {"thread_id": thread_id, "typing": True}) == {"ok": True}
    typing = await ayse_panel.wait_for("agent_typing")
    assert typing == {"thread_id": thread_id, "typing": True, "agent": seen["agent"]}
    # The visitor hears the contract's admin_typing, without a name.
    assert await client.wait_for("admin_typing") == {"thread_id": thread_id, "typing": True}
    # Mert never hears his own typing: Ayşe types back, and Mert gets hers only.
    assert await ayse_panel.call("typing", {"thread_id": thread_id, "typing": True}) == {"ok": True}
    hers = await mert_panel.wait_for("agent_typing")
    assert hers["agent"]["name"] == "Ayşe"
    assert [e["agent"]["name"] for e in mert_panel.received("agent_typing")] == ["Ayşe"]
    # Mert closes his panel: Ayşe sees him leave the thread.
    await mert_panel.close()
    left = await ayse_panel.wait_for("agent_viewing", lambda d: d["viewing"] is False)
    assert left == {"thread_id": thread_id, "viewing": False, "agent": seen["agent"]}
    await client.close()
    await ayse_panel.close()
