"""Admin sign-in with a one-time code: the contract's routes and the rules it left out."""

from __future__ import annotations

import time

from tests.support.clients import Browserish, sign_in


def request_code(http: Browserish) -> dict:
    response = http.post("/request-otp", json={})
    assert response.status_code == 200, response.text
    return response.json()


def test_request_and_verify_in_development(server):
    http = Browserish(server.url)
    answer = request_code(http)
    assert answer["success"] is True
    assert len(answer["otp"]) == 6 and answer["otp"].isdigit()
    assert answer["message"]
    result = http.post("/verify-otp", json={"otp": answer["otp"]})
    assert result.json() == {"success": True, "redirect": "/admin"}
    assert http.get("/api/threads").status_code == 200


def test_code_is_single_use(server):
    http = Browserish(server.url)
    code = request_code(http)["otp"]
    assert http.post("/verify-otp", json={"otp": code}).status_code == 200
    again = Browserish(server.url).post("/verify-otp", json={"otp": code})
    assert again.status_code == 400 and again.json()["success"] is False


def test_wrong_code_is_refused_and_grants_nothing(server):
    http = Browserish(server.url)
    code = request_code(http)["otp"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = http.post("/verify-otp", json={"otp": wrong})
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": "Wrong code."}
    assert http.get("/api/threads").status_code == 401


def test_five_wrong_tries_burn_the_code(make_server):
    live = make_server()
    http = Browserish(live.url)
    code = request_code(http)["otp"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    errors = [http.post("/verify-otp", json={"otp": wrong}).json()["error"] for _ in range(5)]
    assert errors[-1].startswith("Too many wrong tries")
    # Even the right code is useless now.
    response = http.post("/verify-otp", json={"otp": code})
    assert response.status_code == 400 and response.json()["error"].startswith("Too many wrong tries")


def test_expired_code_is_refused(make_server):
    live = make_server(env={"OTP_TTL_SECONDS": "1"})
    http = Browserish(live.url)
    code = request_code(http)["otp"]
    time.sleep(1.5)
    response = http.post("/verify-otp", json={"otp": code})
    assert response.status_code == 400
    assert response.json()["error"].startswith("The code has expired")


def test_verify_without_any_request(make_server):
    live = make_server()
    response = Browserish(live.url).post("/verify-otp", json={"otp": "123456"})
    assert response.status_code == 400
    assert response.json()["error"].startswith("No code was requested")


def test_malformed_codes_are_refused_without_500(server):
    http = Browserish(server.url)
    for body in ({}, {"otp": ""}, {"otp": "12345"}, {"otp": "abcdef"}, {"otp": None}, {"otp": [1]}):
        response = http.post("/verify-otp", json=body)
        assert response.status_code == 400, body
        assert response.json()["success"] is False
    response = http.post("/verify-otp", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_request_otp_is_rate_limited(make_server):
    live = make_server(env={"OTP_REQUESTS_PER_WINDOW": "2"})
    http = Browserish(live.url)
    assert http.post("/request-otp", json={}).status_code == 200
    assert http.post("/request-otp", json={}).status_code == 200
    limited = http.post("/request-otp", json={})
    assert limited.status_code == 429 and limited.json()["success"] is False


def test_code_not_in_response_without_debug(make_server):
    live = make_server(
        env={
            "DJANGO_DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
        }
    )
    http = Browserish(live.url)
    answer = request_code(http)
    assert answer["success"] is True
    assert "otp" not in answer


def test_sign_in_rotates_the_session_key(server):
    http = Browserish(server.url)
    http.get("/")
    before = http.cookies["sessionid"]
    http.post("/verify-otp", json={"otp": request_code(http)["otp"]})
    after = http.cookies["sessionid"]
    assert before != after
    planted = Browserish(server.url)
    planted.cookies.set("sessionid", before)
    assert planted.get("/api/threads").status_code == 401


def test_state_changing_routes_need_the_csrf_token(server):
    admin = sign_in(server.url)
    import requests

    for path in ("/request-otp", "/verify-otp", "/api/messages/clear_all", "/api/upload/image"):
        raw = requests.post(server.url + path, cookies=admin.cookies, json={})
        assert raw.status_code == 403, path
        assert raw.json()["success"] is False
    assert admin.get("/api/threads").status_code == 200
