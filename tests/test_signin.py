"""Admin sign-in with a one-time code: the contract's routes and the rules it left out.

Refusals are checked by their `code` (accounts/refusals.py), never by their English text.
"""

from __future__ import annotations

import time

import requests

from tests.support.addresses import http_from
from tests.support.clients import Browserish, sign_in

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
}


def request_code(http: Browserish) -> dict:
    response = http.post("/request-otp", json={})
    assert response.status_code == 200, response.text
    return response.json()


def refusal(response: requests.Response, status: int, code: str) -> None:
    """The answer is exactly the JSON API's refusal shape, with this status and code."""
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == code, body
    assert body["success"] is False and isinstance(body["error"], str) and body["error"], body
    assert set(body) - {"retry_after"} == {"success", "error", "code"}, body


def other_code(code: str, offset: int = 1) -> str:
    return f"{(int(code) + offset) % 1_000_000:06d}"


def is_admin(http: Browserish) -> bool:
    return http.get("/api/threads").status_code == 200


def test_request_and_verify_in_development(server):
    http = Browserish(server.url)
    answer = request_code(http)
    assert answer["success"] is True
    assert len(answer["otp"]) == 6 and answer["otp"].isdigit()
    assert answer["message"]
    result = http.post("/verify-otp", json={"otp": answer["otp"]})
    # Additive (issue 13): the agent signed in; in development without a name, "Admin".
    agent = result.json()["agent"]
    assert result.json() == {"success": True, "redirect": "/admin", "agent": agent}
    assert agent["name"] == "Admin" and agent["avatar_url"] is None
    assert is_admin(http)


def test_code_is_single_use(server):
    http = Browserish(server.url)
    code = request_code(http)["otp"]
    assert http.post("/verify-otp", json={"otp": code}).status_code == 200
    refusal(http.post("/verify-otp", json={"otp": code}), 400, "code_not_requested")
    refusal(Browserish(server.url).post("/verify-otp", json={"otp": code}), 400, "code_not_requested")


def test_wrong_code_is_refused_and_grants_nothing(server):
    http = Browserish(server.url)
    code = request_code(http)["otp"]
    refusal(http.post("/verify-otp", json={"otp": other_code(code)}), 400, "code_wrong")
    assert not is_admin(http)


def test_five_wrong_tries_burn_the_code(make_server):
    live = make_server()
    http = Browserish(live.url)
    code = request_code(http)["otp"]
    answers = [http.post("/verify-otp", json={"otp": other_code(code, n)}) for n in range(1, 6)]
    assert [a.json()["code"] for a in answers] == ["code_wrong"] * 4 + ["too_many_tries"]
    # Even the right code is useless now.
    refusal(http.post("/verify-otp", json={"otp": code}), 400, "too_many_tries")
    assert not is_admin(http)


def test_expired_code_is_refused(make_server):
    live = make_server(env={"OTP_TTL_SECONDS": "1"})
    http = Browserish(live.url)
    code = request_code(http)["otp"]
    time.sleep(1.5)
    refusal(http.post("/verify-otp", json={"otp": code}), 400, "code_expired")
    assert not is_admin(http)


def test_verify_without_any_request(make_server):
    live = make_server()
    refusal(Browserish(live.url).post("/verify-otp", json={"otp": "123456"}), 400, "code_not_requested")


def test_malformed_codes_are_refused_without_500(server):
    http = Browserish(server.url)
    for body in ({}, {"otp": ""}, {"otp": "12345"}, {"otp": "abcdef"}, {"otp": None}, {"otp": [1]}):
        refusal(http.post("/verify-otp", json=body), 400, "code_invalid")
    response = http.post("/verify-otp", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["success"] is False


def test_request_otp_is_rate_limited_per_address(make_server):
    live = make_server(env={"OTP_REQUESTS_PER_WINDOW": "2"})
    # Separate browsers: the limit is the address's, not the session's.
    assert Browserish(live.url).post("/request-otp", json={}).status_code == 200
    assert Browserish(live.url).post("/request-otp", json={}).status_code == 200
    limited = Browserish(live.url).post("/request-otp", json={})
    refusal(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) == limited.json()["retry_after"] > 0
    # Another address is not limited by this one.
    assert http_from(live.url, "127.0.0.2").post("/request-otp", json={}).status_code == 200


def test_request_otp_is_rate_limited_per_session(make_server):
    live = make_server(env={"OTP_REQUESTS_PER_SESSION": "2"})
    http = Browserish(live.url)
    request_code(http)
    request_code(http)
    refusal(http.post("/request-otp", json={}), 429, "rate_limited")
    # Another browser at the same address still gets a code.
    request_code(Browserish(live.url))


def test_code_requests_have_a_global_ceiling(make_server):
    live = make_server(env={"OTP_REQUESTS_GLOBAL": "3"})
    for address in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        request_code(http_from(live.url, address))
    refusal(http_from(live.url, "127.0.0.5").post("/request-otp", json={}), 429, "rate_limited")


def test_code_not_in_response_without_debug_and_the_operator_hands_it_out(make_server):
    live = make_server(env=PRODUCTION_ENV)
    http = Browserish(live.url)
    answer = request_code(http)
    assert answer["success"] is True and answer["message"]
    assert "otp" not in answer
    # The operator backend issued no code for this browser...
    refusal(http.post("/verify-otp", json={"otp": "000000"}), 400, "code_not_requested")
    # ...an operator's code signs in whoever enters it, once.
    code = live.manage("issue_login_code").stdout.strip()
    assert len(code) == 6 and code.isdigit()
    assert http.post("/verify-otp", json={"otp": code}).status_code == 200
    assert is_admin(http)
    refusal(Browserish(live.url).post("/verify-otp", json={"otp": code}), 400, "code_not_requested")


def test_an_operator_code_allows_its_own_few_wrong_tries(make_server):
    live = make_server(env={**PRODUCTION_ENV, "OTP_MAX_ATTEMPTS": "3"})
    code = live.manage("issue_login_code").stdout.strip()
    for n in range(1, 4):
        guess = Browserish(live.url).post("/verify-otp", json={"otp": other_code(code, n)})
        # The answer never says that an operator's code is pending.
        refusal(guess, 400, "code_not_requested")
    refusal(Browserish(live.url).post("/verify-otp", json={"otp": code}), 400, "code_not_requested")


def test_a_code_belongs_to_the_browser_that_asked(server):
    owner = Browserish(server.url)
    code = request_code(owner)["otp"]
    thief = Browserish(server.url)
    thief.get("/login")
    refusal(thief.post("/verify-otp", json={"otp": code}), 400, "code_not_requested")
    assert not is_admin(thief)
    assert owner.post("/verify-otp", json={"otp": code}).status_code == 200


def test_a_new_request_replaces_the_old_code(server):
    http = Browserish(server.url)
    first = request_code(http)["otp"]
    second = request_code(http)["otp"]
    if first != second:
        refusal(http.post("/verify-otp", json={"otp": first}), 400, "code_wrong")
    assert http.post("/verify-otp", json={"otp": second}).status_code == 200


def test_sign_in_rotates_the_session_key_and_the_csrf_token(server):
    http = Browserish(server.url)
    code = request_code(http)["otp"]  # the session that asked, before sign-in
    session_before, csrf_before = http.cookies["sessionid"], http.cookies["csrftoken"]
    assert http.post("/verify-otp", json={"otp": code}).status_code == 200
    assert http.cookies["sessionid"] != session_before
    assert http.cookies["csrftoken"] != csrf_before
    planted = Browserish(server.url)
    planted.cookies.set("sessionid", session_before)
    assert planted.get("/api/threads").status_code == 401
    assert http.post("/api/messages/clear_all").status_code == 200


def test_state_changing_routes_need_the_csrf_token(server):
    admin = sign_in(server.url)
    for path in ("/request-otp", "/verify-otp", "/api/messages/clear_all", "/api/upload/image", "/logout"):
        raw = requests.post(server.url + path, cookies=admin.cookies, json={}, allow_redirects=False)
        assert raw.status_code == 403, path
        assert raw.json()["success"] is False
    assert is_admin(admin)


def test_cross_site_get_logout_signs_nothing_out(server):
    admin = sign_in(server.url)
    answer = admin.get("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin"
    assert is_admin(admin)
    # The panel's own link (same origin) and a typed URL (no header, or "none") sign out.
    for headers in ({"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {}):
        answer = admin.get("/logout", headers=headers)
        assert answer.status_code == 302 and answer.headers["Location"] == "/login"
        assert not is_admin(admin)
        admin.post("/verify-otp", json={"otp": request_code(admin)["otp"]})
        assert is_admin(admin)


def test_post_logout_signs_out(server):
    admin = sign_in(server.url)
    answer = admin.post("/logout")
    assert answer.status_code == 302 and answer.headers["Location"] == "/login"
    assert not is_admin(admin)


def test_a_delivery_backend_is_chosen_in_settings(make_server):
    live = make_server(env={"LOGIN_CODE_BACKEND": "accounts.delivery.OperatorDelivery"})
    answer = request_code(Browserish(live.url))
    assert answer["success"] is True and "otp" not in answer
