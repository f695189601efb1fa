"""The bot's texts in the desk's language (TELEGRAM_LANGUAGE=tr) against the fake Bot API:
the sign-in code message, the card and the mirror of a panel reply are in Turkish, and a
button's toast is in its presser's Telegram language (`from.language_code`) when the desk
speaks it."""

from __future__ import annotations

import re

import pytest

from tests.support.clients import Browserish, admin_socket
from tests.support.server import LiveServer
from tests.telegram.conftest import post_update, sent, telegram_env
from tests.telegram.test_card import buttons, edited, new_card, press

AYSE = {"id": 5151, "first_name": "Ayşe", "language_code": "tr"}
JOHN = {"id": 5252, "first_name": "John", "language_code": "en-GB"}


@pytest.fixture(scope="module")
def turkish_server(fake):
    env = telegram_env(fake, TELEGRAM_CARDS="1", TELEGRAM_LANGUAGE="tr", SITE_URL="https://desk.example.com")
    live = LiveServer(env=env).start()
    yield live
    log = live.log()
    live.cleanup()
    assert "Traceback" not in log and "crashed" not in log, log[-5000:]


@pytest.fixture(autouse=True)
def members(fake):
    fake.members.update({AYSE["id"]: "member", JOHN["id"]: "member"})
    yield
    for user in (AYSE, JOHN):
        fake.members.pop(user["id"], None)


def sign_in_in_turkish(base_url: str, fake) -> Browserish:
    """Sign in with the code of the bot's message, which is in Turkish."""
    http = Browserish(base_url)
    http.get("/login")
    before = len(fake.calls)
    assert http.post("/request-otp", json={}).status_code == 200
    delivered = [
        c for c in fake.calls[before:] if c.method == "sendMessage" and "giriş kodu" in c.params["text"]
    ]
    assert len(delivered) == 1
    lines = delivered[0].params["text"].split("\n")
    assert re.fullmatch(r"chatdesk giriş kodu: <code>\d{6}</code>", lines[0]), lines
    assert lines[1] == "5 dakika geçerli. Siz istemediyseniz bu mesajı yok sayın."
    code = re.findall(r"\d{6}", lines[0])[0]
    assert http.post("/verify-otp", json={"otp": code}).status_code == 200
    return http


async def toast(fake, update: dict) -> str:
    answer = await sent(
        fake,
        lambda c: (
            c.method == "answerCallbackQuery"
            and str(c.params["callback_query_id"]) == update["callback_query"]["id"]
        ),
    )
    return answer.params["text"]


async def test_the_card_in_turkish_and_toasts_in_the_pressers_language(turkish_server, fake, updates):
    panel = await admin_socket(turkish_server.url, sign_in_in_turkish(turkish_server.url, fake))
    client, thread_id, card = await new_card(turkish_server, fake, "Türkçe Kart")
    lines = card.params["text"].split("\n")
    assert lines[0] == f"🗂 <b>Türkçe Kart</b> · <code>#{thread_id[:8]}</code>"
    assert lines[1:3] == ["Durum: 🟢 Açık", "Atanan: kimse"]
    assert lines[-1].startswith("Başlangıç: ")
    found = buttons(card)
    assert [found[key]["text"] for key in ("Üstlen", "Çöz", "engelle", "aç")] == [
        "🙋 Üstlen",
        "✅ Çöz",
        "⛔ 24 saat engelle",
        "Panelde aç",
    ]

    claim = press(updates, card, found["Üstlen"], AYSE)
    assert post_update(turkish_server.url, claim).status_code == 200
    assert await toast(fake, claim) == "Konuşma artık sizde."
    redrawn = await edited(fake, card, "Atanan: Ayşe")
    assert redrawn.params["text"].split("\n")[1] == "Durum: 🟢 Açık"
    # John presses the first drawing's Resolve: stale, told in his language (English).
    stale = press(updates, card, found["Çöz"], JOHN)
    assert post_update(turkish_server.url, stale).status_code == 200
    assert await toast(fake, stale) == "This conversation has changed."
    resolve = press(updates, card, buttons(redrawn)["Çöz"], AYSE)
    assert post_update(turkish_server.url, resolve).status_code == 200
    assert await toast(fake, resolve) == "Çözüldü."
    resolved = await edited(fake, card, "Durum: ✅ Çözüldü")
    assert sorted(buttons(resolved)) == ["aç", "engelle"]  # Yeniden aç, Panelde aç; 24 saat engelle
    assert [b["text"] for row in resolved.params["reply_markup"]["inline_keyboard"] for b in row] == [
        "↩️ Yeniden aç",
        "⛔ 24 saat engelle",
        "Panelde aç",
    ]
    ack = await panel.call("message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "Merhaba"})
    assert ack["ok"] is True, ack
    mirror = await sent(fake, lambda c: c.method == "sendMessage" and c.params["text"].endswith("\nMerhaba"))
    assert mirror.params["text"].startswith("↩️ <i>")
    assert f"(panelden) →</i> <b>Türkçe Kart</b> · <code>#{thread_id[:8]}</code>" in mirror.params["text"]
    await panel.close()
    await client.close()


async def answer_to(server, fake, updates, text: str) -> str:
    asking = updates.message(text=text)
    assert post_update(server.url, asking).status_code == 200
    answer = await sent(
        fake,
        lambda c: (
            c.method == "sendMessage"
            and c.params.get("reply_parameters", {}).get("message_id") == asking["message"]["message_id"]
        ),
    )
    return answer.params["text"]


async def test_commands_answer_in_turkish(turkish_server, fake, updates):
    client, thread_id, _card = await new_card(turkish_server, fake, "Komut Ziyaretçisi")
    listing = await answer_to(turkish_server, fake, updates, "/open 30")
    assert listing.startswith("<b>Açık konuşmalar</b> (")
    assert f"#{thread_id[:8]}" in listing
    assert listing.endswith(
        "\n/thread &lt;kimlik&gt; bir konuşmayı gösterir; yanıtlamak için o mesaja yanıt verin."
    )
    shown = await answer_to(turkish_server, fake, updates, f"/thread {thread_id[:8]}")
    assert shown.split("\n")[0] == f"<b>Komut Ziyaretçisi</b> <code>#{thread_id[:8]}</code> · 🟢 çevrimiçi"
    assert shown.endswith("\n<i>Cevap vermek için bu mesaja yanıt verin.</i>")
    helped = await answer_to(turkish_server, fake, updates, "/help")
    assert helped.split("\n")[:2] == [
        "<b>chatdesk</b> — ziyaretçi mesajları buraya gelir.",
        "• Ziyaretçiye cevap vermek için mesajına <b>yanıt verin</b> (metin, fotoğraf ya da sesli not).",
    ]
    await client.close()
