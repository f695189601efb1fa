"""Search on PostgreSQL (issue 12): full-text over the GIN index of migration chat/0005,
folded ("ayse" finds "Ayşe"), and the planner really uses that index."""

from __future__ import annotations

import uuid

import psycopg

from tests.support.clients import sign_in, visitor
from tests.support.server import LiveServer


async def test_search_every_message_on_postgresql(services):
    live = LiveServer(env=services.env, migrate=True)
    try:
        live.start()
        http = sign_in(live.url)
        tag = uuid.uuid4().hex[:8]
        sock, thread_id = await visitor(live.url, "Ayşe Işık")
        for text in (f"Siparişim {tag} nerede?", "ikinci", "üçüncü"):
            ack = await sock.call("message_to_admin", {"thread_id": thread_id, "type": "text", "text": text})
            assert ack["ok"] is True
        other, other_id = await visitor(live.url, "Other")
        await other.call("message_to_admin", {"thread_id": other_id, "type": "text", "text": "nothing here"})

        found = http.get("/api/threads", params={"q": f"SIPARIS {tag}"}).json()  # prefix, folded
        assert [t["id"] for t in found] == [thread_id]
        match = found[0]["match"]
        assert match["text"] == f"Siparişim {tag} nerede?"
        assert match["text"][match["start"] : match["end"]] == "Sipariş"
        assert [t["id"] for t in http.get("/api/threads", params={"q": "isik ayse"}).json()] == [thread_id]
        assert http.get("/api/threads", params={"q": f"yok{tag}"}).json() == []
        await sock.close()
        await other.close()

        with psycopg.connect(services.database_url, autocommit=True) as conn:
            names = [
                r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'messages'")
            ]
            assert "message_search_gin_idx" in names
            conn.execute("SET enable_seqscan = off")
            plan = "\n".join(
                r[0]
                for r in conn.execute(
                    "EXPLAIN SELECT id FROM messages WHERE to_tsvector('simple'::regconfig,"
                    " COALESCE((search_text)::text, '')) @@ to_tsquery('simple'::regconfig, 'siparisim:*')"
                )
            )
            assert "message_search_gin_idx" in plan, plan
    finally:
        live.cleanup()
