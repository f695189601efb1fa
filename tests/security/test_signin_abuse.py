"""Sign-in under attack: guessing codes, replaying them, planting sessions, and what
signing out does to the sockets a session opened."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support.addresses import http_from
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


def cookieless_page_views(base_url: str, count: int) -> list[int]:
    """`count` views of the visitor page, each without cookies (a new client every time)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda _: requests.get(base_url + "/").status_code, range(count)))


def same_browser(http: Browserish) -> Browserish:
    """Another connection of the same browser: the same cookies (session, CSRF token)."""
    twin = Browserish(http.base_url)
    twin.cookies.update(http.cookies)
    return twin


def test_five_wrong_guesses_burn_the_code_even_for_its_owner(server):
    http = Browserish(server.url)
    code = request_code(http)
    answers = [http.post("/verify-otp", json={"otp": guess}) for guess in wrong_codes(code, 5)]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(400, "code_wrong")] * 4 + [
        (400, "too_many_tries")
    ]
    late = http.post("/verify-otp", json={"otp": code})
    assert (late.status_code, late.json()["code"]) == (400, "too_many_tries")
    assert not is_admin(http)


def test_concurrent_guesses_cannot_exceed_the_attempt_limit(server):
    """Forty wrong guesses at once, all from the code's own session (the only guesses that
    can spend its tries): exactly OTP_MAX_ATTEMPTS (5) of them are counted, however they
    interleave, and the right code is refused afterwards."""
    http = Browserish(server.url)
    code = request_code(http)
    guesses = wrong_codes(code, 40)

    def guess(value: str) -> str:
        return same_browser(http).post("/verify-otp", json={"otp": value}).json()["code"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(guess, guesses))
    # Four wrong tries leave the code alive, the fifth burns it, the rest find it burnt.
    assert sorted(codes) == sorted(["code_wrong"] * 4 + ["too_many_tries"] * 36), codes
    late = http.post("/verify-otp", json={"otp": code})
    assert (late.status_code, late.json()["code"]) == (400, "too_many_tries")
    assert not is_admin(http)


def test_guesses_from_other_browsers_do_not_spend_the_admins_tries(server):
    admin = Browserish(server.url)
    code = request_code(admin)
    answers = [
        attacker.post("/verify-otp", json={"otp": guess})
        for guess in wrong_codes(code, 12)
        for attacker in (Browserish(server.url), http_from(server.url, "127.0.0.2"))
    ]
    assert [a.status_code for a in answers] == [400] * 24
    own = [admin.post("/verify-otp", json={"otp": guess}) for guess in wrong_codes(code, 4)]
    assert [a.status_code for a in own] == [400] * 4
    assert admin.post("/verify-otp", json={"otp": code}).status_code == 200
    assert is_admin(admin)
    # Each answer said what it says to a browser that never asked: nothing about the
    # admin's pending code.
    assert {a.json()["code"] for a in answers} == {"code_not_requested"}
    assert [a.json()["code"] for a in own] == ["code_wrong"] * 4


def test_a_code_signs_in_once_even_when_raced(server):
    """Six tabs of the browser that asked send the right code at the same moment: one wins."""
    owner = Browserish(server.url)
    code = request_code(owner)
    tabs = [same_browser(owner) for _ in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda tab: tab.post("/verify-otp", json={"otp": code}).status_code, tabs))
    assert sorted(statuses) == [200] + [400] * 5, statuses
    assert sum(is_admin(tab) for tab in tabs) == 1


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
    assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
    assert not is_admin(http)
    # Another browser from the same address is refused too: the limit is per address.
    other = Browserish(live.url)
    assert other.post("/verify-otp", json={"otp": third}).status_code == 429
    # Another address is not.
    elsewhere = http_from(live.url, "127.0.0.2")
    assert elsewhere.post("/verify-otp", json={"otp": request_code(elsewhere)}).status_code == 200


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
    assert (answer.status_code, answer.json()["code"]) == (400, "code_expired")
    assert not is_admin(http)
    fresh = request_code(http)
    assert http.post("/verify-otp", json={"otp": fresh}).status_code == 200
    assert is_admin(http)
    # Used once, then never again.
    again = Browserish(live.url)
    assert again.post("/verify-otp", json={"otp": fresh}).status_code == 400


SIGN_IN_LIMITS = {
    # The shipped defaults (settings.py / README), not the test servers' generous ones.
    "OTP_REQUESTS_PER_WINDOW": "5",
    "OTP_REQUESTS_PER_SESSION": "3",
    "OTP_REQUESTS_GLOBAL": "60",
    "OTP_VERIFY_FAILURES_PER_IP": "20",
    "OTP_VERIFY_FAILURES_GLOBAL": "100",
}


def test_an_attacker_flooding_codes_cannot_lock_the_admin_out(make_server):
    """Issue 18.5: while 127.0.0.2 floods code requests and wrong codes, the admin at
    127.0.0.1 requests a code and signs in."""
    live = make_server(env=SIGN_IN_LIMITS)
    admin = Browserish(live.url)
    code = request_code(admin)

    def flood(n: int) -> tuple[int, int]:
        attacker = http_from(live.url, "127.0.0.2")
        asked = attacker.post("/request-otp", json={})
        guessed = attacker.post("/verify-otp", json={"otp": f"{n:06d}"})
        return asked.status_code, guessed.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(flood, range(60)))
    assert sorted({r[0] for r in results}) == [200, 429] and {r[1] for r in results} == {400, 429}
    # The admin's code still has all its tries, and the admin's address is not limited.
    wrong = admin.post("/verify-otp", json={"otp": wrong_codes(code, 1)[0]})
    assert wrong.status_code == 400
    assert admin.post("/verify-otp", json={"otp": code}).status_code == 200
    assert wrong.json()["code"] == "code_wrong"
    assert is_admin(admin)
    # A second admin browser can still ask for a code and sign in.
    other = Browserish(live.url)
    assert other.post("/verify-otp", json={"otp": request_code(other)}).status_code == 200


def test_limits_survive_a_flood_of_page_views(make_server):
    """~1000 cookie-less page views (once a session and a cache entry each) must not evict
    the counts: limits live in the database (or Redis), not in a local-memory cache."""
    live = make_server(env={"OTP_REQUESTS_PER_WINDOW": "2", "OTP_VERIFY_FAILURES_PER_IP": "2"})
    first, second = Browserish(live.url), Browserish(live.url)
    code = request_code(first)
    request_code(second)
    for guess in wrong_codes(code, 2):
        assert first.post("/verify-otp", json={"otp": guess}).status_code == 400
    assert cookieless_page_views(live.url, 1000) == [200] * 1000
    limited = Browserish(live.url).post("/request-otp", json={})
    refused = first.post("/verify-otp", json={"otp": code})
    assert (limited.status_code, refused.status_code) == (429, 429)
    assert limited.json()["code"] == refused.json()["code"] == "rate_limited"


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

    # Nothing from admin_room reaches the signed-out tabs any more: they are closed, so
    # once the bystander has the message, nothing can still arrive at them.
    tab_one.events.clear()
    tab_two.events.clear()
    client, thread_id = await visitor(server.url, "After logout")
    await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "hello?"})
    await bystander.wait_for("message_from_visitor", lambda d: d["thread_id"] == thread_id)
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


async def test_sign_out_reaches_the_sockets_after_a_flood_of_page_views(server):
    """Issue 18.3: the list of a session's sockets must not be evictable. ~1000 page views
    between admin_join and sign-out (each once a cache entry) change nothing: the signed-out
    tab is closed and gets nothing more, while another admin's tab still does."""
    admin = sign_in(server.url)
    other_admin = sign_in(server.url)
    tab = await admin_socket(server.url, admin)
    bystander = await admin_socket(server.url, other_admin)
    assert cookieless_page_views(server.url, 1000) == [200] * 1000
    # Both tabs still get admin_room's events.
    early, early_thread = await visitor(server.url, "Before logout")
    for recorder in (tab, bystander):
        await recorder.wait_for("thread_created", lambda d: d["id"] == early_thread)

    assert admin.post("/logout").status_code == 302
    client, thread_id = await visitor(server.url, "After logout")
    sent = await client.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": "hi"})
    assert sent["ok"] is True, sent
    await bystander.wait_for("message_from_visitor", lambda d: d["thread_id"] == thread_id)
    assert await _disconnected(tab)
    # Closed: whatever reached it is in its events by now.
    assert [d for e, d in tab.events if isinstance(d, dict) and d.get("thread_id") == thread_id] == []
    assert is_admin(other_admin) and bystander.sio.connected
    for c in (tab, bystander, early, client):
        await c.close()


def test_django_admin_passwords_are_locked_out_per_address_and_username(make_server):
    """Issue 18.9: django-axes locks a username out at one address after AXES_FAILURE_LIMIT
    wrong passwords; the right password no longer works there, but does from elsewhere,
    and staff see the lockout in the admin."""
    live = make_server(env={"AXES_FAILURE_LIMIT": "3"})
    live.env["DJANGO_SUPERUSER_PASSWORD"] = "right-horse-battery-staple"
    live.manage("createsuperuser", "--noinput", "--username", "staff", "--email", "staff@example.com")

    def sign_in_form(http: Browserish, password: str) -> requests.Response:
        http.get("/django-admin/login/")
        token = http.cookies["csrftoken"]
        return http.post(
            "/django-admin/login/?next=/django-admin/",
            data={"username": "staff", "password": password, "csrfmiddlewaretoken": token},
        )

    guesser = Browserish(live.url)
    for n in range(2):
        assert sign_in_form(guesser, f"guess-{n}").status_code == 200  # the form again
    # The third wrong password locks the pair out; then the right one is refused too.
    assert sign_in_form(guesser, "guess-2").status_code == 429
    assert sign_in_form(guesser, "right-horse-battery-staple").status_code == 429
    assert guesser.get("/django-admin/").status_code == 302  # not signed in
    # The same username from another address is not locked out.
    staff = http_from(live.url, "127.0.0.2")
    answer = sign_in_form(staff, "right-horse-battery-staple")
    assert answer.status_code == 302 and answer.headers["Location"] == "/django-admin/"
    attempts = staff.get("/django-admin/axes/accessattempt/")
    assert attempts.status_code == 200 and "127.0.0.1" in attempts.text
