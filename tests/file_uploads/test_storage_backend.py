"""STORAGE_BACKEND picks any Django storage for uploads (here Django's in-memory one)."""

from __future__ import annotations

import json

from tests.file_uploads import samples
from tests.support.clients import Browserish, sign_in, visitor
from tests.support.server import LiveServer


async def test_any_storage_backend_serves_uploads_and_their_urls_count_as_ours(make_server):
    live = make_server(
        env={
            "STORAGE_BACKEND": "django.core.files.storage.InMemoryStorage",
            "STORAGE_OPTIONS": json.dumps({"base_url": "https://media.example.com/chat/"}),
        }
    )
    http = Browserish(live.url)
    answer = http.post("/api/upload/audio", files={"file": ("v.webm", samples.webm())})
    assert answer.status_code == 200, answer.text
    url = answer.json()["url"]
    assert url.startswith("https://media.example.com/chat/audio/") and url.endswith(".webm")
    # Files of other storages are served by them, not by /uploads/.
    assert http.get("/uploads/audio/" + url.rsplit("/", 1)[-1]).status_code == 404

    client, thread_id = await visitor(live.url)
    ack = await client.call("message_to_admin", {"thread_id": thread_id, "type": "audio", "file_url": url})
    assert ack["ok"] is True, ack
    for foreign in (
        "https://media.example.com/other/audio/x.webm",
        "/uploads/audio/x.webm",
        url.replace("media.example.com", "evil.example"),
    ):
        ack = await client.call(
            "message_to_admin", {"thread_id": thread_id, "type": "audio", "file_url": foreign}
        )
        assert ack["ok"] is False, foreign
    await client.close()
    stored = sign_in(live.url).get(f"/api/messages?thread_id={thread_id}").json()
    assert [m["file_path"] for m in stored] == [url]


def test_malformed_storage_options_stop_the_server_with_a_clear_error():
    live = LiveServer(
        env={"STORAGE_BACKEND": "django.core.files.storage.InMemoryStorage", "STORAGE_OPTIONS": "{not json"},
        migrate=False,
    )
    try:
        result = live.manage("check", check=False)
        assert result.returncode != 0
        assert "STORAGE_OPTIONS must be a JSON object" in result.stderr
    finally:
        live.cleanup()
