"""Visitors' sessions: page views store nothing; a visitor who chats gets a session, so a
reload comes back to the conversation; a session key we did not hand out is never adopted."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support.clients import Browserish, Recorder


def session_rows(live) -> int:
    with sqlite3.connect(live.workdir / "db.sqlite3") as db:
        return db.execute("SELECT COUNT(*) FROM django_session").fetchone()[0]


def test_page_views_without_a_cookie_store_no_session(make_server):
    live = make_server()
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: requests.get(live.url + "/"), range(300)))
    assert [a.status_code for a in answers] == [200] * 300
    # Each got a session cookie, but nothing was stored for it.
    assert all("sessionid" in a.cookies for a in answers)
    assert session_rows(live) == 0


async def test_a_visitor_who_chats_gets_a_session_and_resumes_after_reload(make_server):
    live = make_server()
    page = Browserish(live.url)
    page.get("/")
    cookie = page.cookie_header()
    first = await Recorder(live.url, cookie).connect()
    joined = await first.call("join", {"display_name": "Ayşe"})
    assert joined["ok"] is True and joined["resumed"] is False
    assert session_rows(live) == 1
    sent = await first.call(
        "message_to_admin", {"thread_id": joined["thread_id"], "type": "text", "text": "hi"}
    )
    assert sent["ok"] is True
    await first.close()
    # Reload: the page keeps the cookie, the new socket comes back to the conversation.
    assert page.get("/").status_code == 200 and page.cookie_header() == cookie
    again = await Recorder(live.url, cookie).connect()
    resumed = await again.call("join", {"display_name": "Ayşe", "thread_id": joined["thread_id"]})
    assert resumed["ok"] is True and resumed["resumed"] is True
    assert resumed["thread_id"] == joined["thread_id"]
    assert [m["content_text"] for m in resumed["messages"]] == ["hi"]
    assert session_rows(live) == 1
    await again.close()


async def test_an_invented_session_key_is_not_adopted(make_server):
    live = make_server()
    cookie = "sessionid=" + "a" * 40
    first = await Recorder(live.url, cookie).connect()
    joined = await first.call("join", {"display_name": "Mallory"})
    assert joined["ok"] is True
    await first.close()
    assert session_rows(live) == 0
    again = await Recorder(live.url, cookie).connect()
    resumed = await again.call("join", {"display_name": "Mallory", "thread_id": joined["thread_id"]})
    assert resumed["ok"] is True and resumed["resumed"] is False
    await again.close()
