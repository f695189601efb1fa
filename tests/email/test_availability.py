"""The visitor sees whether anyone can answer: live, from real panel sockets and the
business hours set in the Django admin; and the email they leave, validated, reaches agents."""

from __future__ import annotations

import textwrap

import requests

from tests.support.clients import Browserish, Recorder, admin_socket, sign_in


async def joined_visitor(base_url: str, name: str = "Deniz"):
    page = Browserish(base_url)
    page.get("/")
    client = await Recorder(base_url, page.cookie_header()).connect()
    ack = await client.call("join", {"display_name": name})
    assert ack["ok"] is True, ack
    return client, ack


def run_in_server(server, code: str) -> str:
    done = server.manage("shell", "-c", textwrap.dedent(code))
    return done.stdout.strip()


def availability_events(client: Recorder) -> list[bool]:
    return [data["available"] for data in client.received("availability")]


async def test_the_visitor_sees_the_desk_away_until_an_agent_opens_the_panel_and_after_they_leave(
    email_server,
):
    visitor, ack = await joined_visitor(email_server.url)
    assert ack["availability"] == {
        "available": False,
        "reason": "no_agent",
        "median_first_response_seconds": None,
    }
    assert (ack["email"], ack["email_enabled"]) == (None, True)

    admin_http = sign_in(email_server.url)
    admin = await admin_socket(email_server.url, admin_http)
    await visitor.wait_for("availability", lambda d: d["available"] is True)
    # The page asks the same before the visitor joins (GET /api/availability).
    before_join = requests.get(email_server.url + "/api/availability", timeout=5)
    assert (before_join.json()["available"], before_join.json()["reason"]) == (True, None)
    await admin.close()
    await visitor.wait_for("availability", lambda d: d["available"] is False)
    assert availability_events(visitor) == [True, False]
    assert visitor.received("availability")[-1]["reason"] == "no_agent"
    assert requests.get(email_server.url + "/api/availability", timeout=5).json()["available"] is False

    # A second visitor who joins now hears the same in its ack.
    later, later_ack = await joined_visitor(email_server.url, "Ece")
    assert later_ack["availability"]["available"] is False
    await later.close()
    await visitor.close()


async def test_outside_business_hours_the_desk_is_away_even_with_an_agent_online(email_server):
    admin = await admin_socket(email_server.url, sign_in(email_server.url))
    visitor, ack = await joined_visitor(email_server.url)
    assert ack["availability"]["available"] is True

    # A schedule whose only hours are tomorrow, in its own time zone: closed now.
    run_in_server(
        email_server,
        """
        from datetime import time, timedelta
        from zoneinfo import ZoneInfo
        from django.utils import timezone
        from chat.models import BusinessHours, WeeklyHours
        zone = ZoneInfo("Asia/Tokyo")
        tomorrow = (timezone.now().astimezone(zone) + timedelta(days=1)).weekday()
        hours = BusinessHours.objects.create(name="test", time_zone="Asia/Tokyo")
        WeeklyHours.objects.create(schedule=hours, weekday=tomorrow, opens=time(0, 0), closes=time(0, 0))
        """,
    )
    closed = await visitor.wait_for("availability", lambda d: d["available"] is False)
    assert closed == {"available": False, "reason": "outside_hours", "median_first_response_seconds": None}

    # Open all day today, but today is a holiday: still closed. Then no holiday: open.
    run_in_server(
        email_server,
        """
        from datetime import time
        from zoneinfo import ZoneInfo
        from django.utils import timezone
        from chat.models import BusinessHours, Holiday, WeeklyHours
        zone = ZoneInfo("Asia/Tokyo")
        today = timezone.now().astimezone(zone)
        hours = BusinessHours.objects.get(name="test")
        Holiday.objects.create(schedule=hours, date=today.date(), name="Bayram")
        WeeklyHours.objects.create(schedule=hours, weekday=today.weekday(), opens=time(0, 0), closes=time(0, 0))
        """,
    )
    run_in_server(email_server, "from chat.models import Holiday; Holiday.objects.all().delete()")
    opened = await visitor.wait_for("availability", lambda d: d["available"] is True)
    assert opened["reason"] is None
    assert availability_events(visitor) == [False, True]  # never open on the holiday
    run_in_server(email_server, "from chat.models import BusinessHours; BusinessHours.objects.all().delete()")
    await visitor.close()
    await admin.close()


async def test_an_agent_active_in_telegram_keeps_the_desk_available(email_server):
    visitor, ack = await joined_visitor(email_server.url)
    assert ack["availability"]["available"] is False
    run_in_server(email_server, "from chat import availability; availability.note_telegram_activity()")
    await visitor.wait_for("availability", lambda d: d["available"] is True)
    run_in_server(email_server, "from chat.models import DeskActivity; DeskActivity.objects.all().delete()")
    await visitor.wait_for("availability", lambda d: d["available"] is False)
    assert availability_events(visitor) == [True, False]
    await visitor.close()


async def test_the_measured_reply_time_is_the_median_first_response(email_server):
    admin = await admin_socket(email_server.url, sign_in(email_server.url))
    visitor, ack = await joined_visitor(email_server.url)
    sent = await visitor.call(
        "message_to_admin", {"thread_id": ack["thread_id"], "type": "text", "text": "Hi"}
    )
    assert sent["ok"] is True
    answer = await admin.call(
        "message_to_visitor", {"thread_id": ack["thread_id"], "type": "text", "text": "Yes?"}
    )
    assert answer["ok"] is True
    later, later_ack = await joined_visitor(email_server.url, "Ece")
    median = later_ack["availability"]["median_first_response_seconds"]
    assert isinstance(median, int) and 0 <= median < 60
    for client in (later, visitor, admin):
        await client.close()


async def test_the_visitor_leaves_an_email_that_is_validated_and_shown_to_agents(email_server):
    admin_http = sign_in(email_server.url)
    admin = await admin_socket(email_server.url, admin_http)
    visitor, ack = await joined_visitor(email_server.url)
    thread_id = ack["thread_id"]

    refused = await visitor.call("set_email", {"thread_id": thread_id, "email": "not an address"})
    assert (refused["ok"], refused["code"]) == (False, "email_invalid")
    stranger, _ = await joined_visitor(email_server.url, "Stranger")
    refused = await stranger.call("set_email", {"thread_id": thread_id, "email": "a@example.com"})
    assert (refused["ok"], refused["code"]) == (False, "not_your_thread")
    await stranger.close()

    assert await visitor.call("set_email", {"thread_id": thread_id, "email": " deniz@example.com "}) == {
        "ok": True,
        "email": "deniz@example.com",
    }
    update = await admin.wait_for(
        "thread_updated", lambda d: d["thread_id"] == thread_id and d["change"] == "email"
    )
    assert update == {"thread_id": thread_id, "change": "email", "email": "deniz@example.com"}
    threads = requests.get(email_server.url + "/api/threads", cookies=admin_http.cookies, timeout=5).json()
    [listed] = [t for t in threads if t["id"] == thread_id]
    assert listed["email"] == "deniz@example.com"

    # Editable: changed, and the resumed join tells the page what is stored.
    assert (await visitor.call("set_email", {"thread_id": thread_id, "email": "d2@example.com"}))[
        "ok"
    ] is True
    again = await visitor.call("join", {"display_name": "Deniz", "thread_id": thread_id})
    assert (again["resumed"], again["email"]) == (True, "d2@example.com")
    await visitor.close()
    await admin.close()
