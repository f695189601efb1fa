"""Insights' daily roll-ups on PostgreSQL (chat/rollups.py): conversations opened,
answered, claimed, resolved, reopened by a visitor's message, cleared and deleted through
daphne keep the roll-ups equal to a recount (`rebuild_insights --check`), and
/api/insights answers from them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.support.clients import admin_socket
from tests.support.server import LiveServer
from tests.test_desk_lifecycle import sign_in_as, text, visitor_from


def check(live: LiveServer) -> str:
    done = live.manage("rebuild_insights", "--check", check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_rollups_follow_every_change_on_postgresql(services):
    live = LiveServer(env={**services.env, "TIME_ZONE": "Europe/Istanbul"}, migrate=True)
    try:
        live.start()
        http = sign_in_as(live, "Ayşe")
        panel = await admin_socket(live.url, http)
        first, first_id, _ = await visitor_from(live, "127.0.0.2", "Ahmet")
        second, second_id, _ = await visitor_from(live, "127.0.0.3", "Zeynep")
        third, third_id, _ = await visitor_from(live, "127.0.0.4", "Can")
        check(live)

        for thread_id in (first_id, second_id):
            ack = await panel.call("message_to_visitor", text(thread_id, "Merhaba"))
            assert ack["ok"] is True, ack
        assert (await panel.call("claim_thread", {"thread_id": first_id}))["ok"] is True
        assert (await panel.call("resolve_thread", {"thread_id": first_id}))["ok"] is True
        check(live)
        ack = await first.call("message_to_admin", text(first_id, "Bir şey daha"))  # reopens it
        assert ack["ok"] is True, ack
        check(live)
        assert (await panel.call("resolve_thread", {"thread_id": second_id}))["ok"] is True
        assert http.post("/api/messages/clear", data={"thread_id": third_id}).status_code == 200
        check(live)
        today = datetime.now(ZoneInfo("Europe/Istanbul")).date().isoformat()
        answer = http.get("/api/insights", params={"from": today, "to": today}).json()
        assert answer["totals"] == {"conversations": 3, "resolved": 1, "answered": 2}
        assert (answer["first_response"]["count"], answer["resolution"]["count"]) == (2, 1)
        assert [(a["name"], a["assigned"], a["resolved"]) for a in answer["agents"]] == [("Ayşe", 1, 0)]
        for client in (first, second, third, panel):
            await client.close()
        deleted = live.manage("clear_threads", "--older-than", "0", "--yes", check=False)  # delete_threads
        assert deleted.returncode == 0, deleted.stderr
        assert check(live) == "The insights roll-ups match the threads (0 counters).\n"
    finally:
        live.cleanup()
