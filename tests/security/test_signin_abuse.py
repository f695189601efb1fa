"""Sign-in under attack: guessing codes, replaying them, planting sessions, and what
signing out does to the sockets a session opened."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from tests.support.clients import Browserish, Recorder, admin_socket, sign_in, visitor


def request_code(http: Browserish) -> str:
    answer = http.post("/request-otp", json={})
    assert answer.status_code == 200, answer.text
    return answer.json()["otp"]


def wrong_codes(right: str, count: int) -> list[str]:
    wrong = []
    n = 0
    while len(wrong) < count:
        candidate = f"{n:06d}"
        if candidate != right:
            wrong.append(candidate)
        n += 1
    return wrong


def is_admin(http: Browserish) -> bool:
    return http.get("/api/threads").status_code == 200


def test_five_wrong_guesses_burn_the_code_even_for_its_owner(server):
    http = Browserish(server.url)
    code = request_code(http)
    for guess in wrong_codes(code, 5):
        answer = http.post("/verify-otp", json={"otp": guess})
        assert answer.status_code == 400 and answer.json()["success"] is False
    late = http.post("/verify-otp", json={"otp": code})
    assert late.status_code == 400
    assert "Too many wrong tries" in late.json()["error"]
    assert not is_admin(http)


def test_concurrent_guesses_cannot_exceed_the_attempt_limit(server):
    """Forty guesses at once must not get more than five tries at the code."""
    http = Browserish(server.url)
    code = request_code(http)
    guesses = wrong_codes(code, 40)

    def guess(value: str) -> int:
        attacker = Browserish(server.url)
        return attacker.post("/verify-otp", json={"otp": value}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(guess, guesses))
    assert set(statuses) <= {400, 429}, statuses
    late = http.post("/verify-otp", json={"otp": code})
    assert late.status_code == 400 and not is_admin(http)


def test_a_code_signs_in_once_even_when_raced(server):
    """Two browsers sending the same right code at the same moment: one session wins."""
    owner = Browserish(server.url)
    code = request_code(owner)
    browsers = [Browserish(server.url) for _ in range(6)]
    for b in browsers:
        b.get("/login")
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda b: b.post("/verify-otp", json={"otp": code}).status_code, browsers))
    assert sorted(statuses) == [200] + [400] * 5, statuses
    assert sum(is_admin(b) for b in browsers) == 1


def test_wrong_codes_from_one_address_are_limited_across_codes(make_server):
    live = make_server(env={"OTP_VERIFY_FAILURES_PER_IP": "6"})
    http = Browserish(live.url)
    first = request_code(http)
    for guess in wrong_codes(first, 4):
        assert http.post("/verify-otp", json={"otp": guess}).status_code == 400
    # A fresh code does not reset the address's count.
    second = request_code(http)
    for guess in wrong_codes(second, 2):
        assert http.post("/verify-otp", json={"otp": guess}).status_code == 400
    third = request_code(http)
    refused = http.post("/verify-otp", json={"otp": third})
    assert refused.status_code == 429 and refused.json()["success"] is False
    assert not is_admin(http)
    # Another browser from the same address is refused too: the limit is per address.
    other = Browserish(live.url)
    assert other.post("/verify-otp", json={"otp": third}).status_code == 429


def test_request_otp_limit_holds_under_a_burst(make_server):
    live = make_server(env={"OTP_REQUESTS_PER_WINDOW": "3"})

    def ask(_: int) -> int:
        return Browserish(live.url).post("/request-otp", json={}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(ask, range(12)))
    assert statuses.count(200) == 3 and statuses.count(429) == 9, statuses
    answer = Browserish(live.url).post("/request-otp", json={})
    assert answer.status_code == 429 and "otp" not in answer.json()


def test_an_expired_code_is_refused_and_a_fresh_one_works(make_server):
    live = make_server(env={"OTP_TTL_SECONDS": "2"})
    http = Browserish(live.url)
    stale = request_code(http)
    time.sleep(2.5)
    answer = http.post("/verify-otp", json={"otp": stale})
    assert answer.status_code == 400 and "expired" in answer.json()["error"]
    assert not is_admin(http)
    fresh = request_code(http)
    assert http.post("/verify-otp", json={"otp": fresh}).status_code == 200
    assert is_admin(http)
    # Used once, then never again.
    again = Browserish(live.url)
    assert again.post("/verify-otp", json={"otp": fresh}).status_code == 400


async def test_a_planted_session_cookie_never_becomes_admin(server):
    # The attacker opens the chat and gets a real session key...
    attacker = Browserish(server.url)
    attacker.get("/")
    planted = attacker.cookies["sessionid"]
    # ...and plants it in the victim's browser, who then signs in.
    victim = Browserish(server.url)
    victim.cookies.set("sessionid", planted, domain="127.0.0.1", path="/")
    victim.post("/verify-otp", json={"otp": request_code(victim)})
    assert is_admin(victim)
    assert victim.cookies["sessionid"] != planted
    assert not is_admin(attacker)
    sock = await Recorder(server.url, f"sessionid={planted}").connect()
    assert (await sock.call("admin_join", {}))["ok"] is False
    await sock.close()
    # A key the attacker made up is not adopted either.
    invented = Browserish(server.url)
    invented.cookies.set("sessionid", "attackerchosenkey0123456789abcdef", domain="127.0.0.1", path="/")
    invented.post("/verify-otp", json={"otp": request_code(invented)})
    assert is_admin(invented)
    assert invented.cookies["sessionid"] != "attackerchosenkey0123456789abcdef"


async def _disconnected(client: Recorder, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not client.sio.connected:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_sign_out_closes_every_admin_socket_of_the_session(server):
    admin = sign_in(server.url)
    other_admin = sign_in(server.url)
    tab_one = await admin_socket(server.url, admin)
    tab_two = await admin_socket(server.url, admin)
    # Connected with the admin cookie but never joined admin_room.
    idle = await Recorder(server.url, admin.cookie_header()).connect()
    bystander = await admin_socket(server.url, other_admin)
    cookie = admin.cookie_header()

    assert admin.get("/logout").status_code == 302
    assert await _disconnected(tab_one) and await _disconnected(tab_two)

    # Nothing from admin_room reaches the signed-out tabs any more.
    tab_one.events.clear()
    tab_two.events.clear()
    client, thread_id = await visitor(server.url, "After logout")
    await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "hello?"})
    await bystander.wait_for("message_from_visitor", lambda d: d["thread_id"] == thread_id)
    await asyncio.sleep(0.2)
    assert tab_one.events == [] and tab_two.events == []

    # The socket that stayed up is refused every admin event: the session is checked each time.
    assert idle.sio.connected
    assert (await idle.call("admin_join", {}))["ok"] is False
    reply = {"thread_id": thread_id, "type": "text", "text": "still admin?"}
    assert (await idle.call("message_to_visitor", reply))["ok"] is False
    assert (await idle.call("mark_seen", {"thread_id": thread_id}))["ok"] is False
    assert (await idle.call("typing", {"thread_id": thread_id, "typing": True}))["ok"] is False
    assert idle.received("message_from_visitor") == []
    # Reconnecting with the old cookie gives nothing either.
    again = await Recorder(server.url, cookie).connect()
    assert (await again.call("admin_join", {}))["ok"] is False
    assert client.received("message_from_admin") == [] and client.received("admin_typing") == []

    # The other admin's session is untouched.
    assert bystander.sio.connected and is_admin(other_admin)
    for c in (idle, again, client, bystander, tab_one, tab_two):
        await c.close()


async def test_sign_out_by_post_closes_sockets_too(server):
    admin = sign_in(server.url)
    tab = await admin_socket(server.url, admin)
    assert admin.post("/logout").status_code == 302
    assert await _disconnected(tab)
    assert not is_admin(admin)
