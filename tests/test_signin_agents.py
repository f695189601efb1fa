"""Named agents without Telegram (issue 13, part A): the development code signs in
"Admin" or the agent named; operators issue codes for a named agent; `manage.py agents`
lists, adds and deactivates (ending the agent's sessions); the visitor and the panel see
who answered, through the real server."""

from __future__ import annotations

from tests.support.clients import Browserish, admin_socket, visitor


def dev_sign_in(base_url: str, **body) -> tuple[Browserish, dict]:
    http = Browserish(base_url)
    http.get("/login")
    answer = http.post("/request-otp", json=body).json()
    assert answer["success"], answer
    result = http.post("/verify-otp", json={"otp": answer["otp"]})
    assert result.status_code == 200, result.text
    return http, result.json()["agent"]


def test_development_signs_in_admin_or_the_named_agent(server):
    _, default = dev_sign_in(server.url)
    assert default["name"] == "Admin"
    _, again = dev_sign_in(server.url)
    assert again == default  # created once, then reused
    http, named = dev_sign_in(server.url, agent="Zeynep Dev")
    assert named["name"] == "Zeynep Dev" and named["id"] != default["id"]
    assert http.get("/api/desk").json()["me"] == named
    bad = Browserish(server.url).post("/request-otp", json={"agent": 42})
    assert bad.status_code == 400 and bad.json()["code"] == "agent_invalid"


async def test_the_visitor_and_the_panel_see_who_answered(server):
    http, agent = dev_sign_in(server.url, agent="Ece Dev")
    panel = await admin_socket(server.url, http)
    client, thread_id = await visitor(server.url, "Named reply")
    ack = await panel.call("message_to_visitor", {"thread_id": thread_id, "type": "text", "text": "Selam"})
    assert ack["ok"] and ack["message"]["agent"] == agent
    assert (await client.wait_for("message_from_admin"))["agent"] == agent
    synced = await panel.wait_for("message_from_telegram", lambda d: d["thread_id"] == thread_id)
    assert synced["agent"] == agent and synced["via"] == "panel"
    listed = http.get(f"/api/messages?thread_id={thread_id}").json()
    assert [m["agent"] for m in listed] == [agent]
    await client.close()
    await panel.close()


def test_operator_codes_for_a_named_agent_and_the_agents_command(make_server):
    live = make_server({"LOGIN_CODE_BACKEND": "accounts.delivery.OperatorDelivery"})
    added = live.manage("agents", "add", "Ayşe Op", "--username", "ayse_op")
    assert added.stdout.strip().startswith("Added agent ")
    listed = live.manage("agents", "list").stdout.splitlines()
    assert listed[0] == "id\tname\ttelegram_user_id\tusername\tprivate_chat\tactive"
    assert listed[1].split("\t")[1:] == ["Ayşe Op", "-", "@ayse_op", "no", "yes"]
    unknown = live.manage("issue_login_code", "--agent", "@nobody", check=False)
    assert unknown.returncode == 1 and unknown.stdout == ""
    code = live.manage("issue_login_code", "--agent", "@ayse_op").stdout.strip()
    http = Browserish(live.url)
    result = http.post("/verify-otp", json={"otp": code})
    assert result.json()["agent"]["name"] == "Ayşe Op"
    assert http.get("/api/threads").status_code == 200
    # Deactivating ends her session at once, and her next code signs nobody in.
    next_code = live.manage("issue_login_code", "--agent", "Ayşe Op").stdout.strip()
    done = live.manage("agents", "deactivate", "@ayse_op")
    assert done.stdout.strip() == "Deactivated Ayşe Op (1 panel session(s) ended)."
    assert http.get("/api/threads").status_code == 401
    refused = Browserish(live.url).post("/verify-otp", json={"otp": next_code})
    assert refused.status_code == 403 and refused.json()["code"] == "agent_inactive"
    assert live.manage("agents", "deactivate", "nobody", check=False).returncode == 1
    assert live.manage("agents", "frobnicate", check=False).returncode == 2
