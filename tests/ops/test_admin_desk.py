"""The Django admin's desk pages (issue 13): staff edit canned replies and lift blocks."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from chat import blocks, services
from chat.models import CannedReply, Thread, VisitorBlock

pytestmark = pytest.mark.django_db


def test_staff_add_and_edit_canned_replies(admin_client):
    added = admin_client.post(
        reverse("admin:chat_cannedreply_add"), {"shortcut": "hours", "language": "tr", "text": "9-18 arası."}
    )
    assert added.status_code == 302
    reply = CannedReply.objects.get()
    assert (reply.shortcut, reply.language, reply.text) == ("hours", "tr", "9-18 arası.")
    listed = admin_client.get(reverse("admin:chat_cannedreply_changelist"))
    assert [r.pk for r in listed.context["cl"].result_list] == [reply.pk]


def test_staff_unblock_a_visitor(admin_client, monkeypatch, django_capture_on_commit_callbacks):
    from chat.realtime import publishing

    sent = []
    monkeypatch.setattr(publishing, "publish", lambda event, data, room: sent.append((event, data)))
    thread = services.create_thread("Spammer", blocks.Visitor.of("10.0.0.2", "key"))
    _, block = services.block_visitor(thread.id, "7d")
    VisitorBlock.objects.filter(pk=block.pk).update(attempts=3)
    page = admin_client.get(reverse("admin:chat_visitorblock_changelist") + "?active=yes")
    assert [b.pk for b in page.context["cl"].result_list] == [block.pk]

    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(
            reverse("admin:chat_visitorblock_changelist"),
            {"action": "unblock", "_selected_action": [block.pk]},
        )
    assert done.status_code == 302
    block.refresh_from_db()
    assert block.expires_at <= timezone.now()
    assert block.attempts == 3  # the count stays
    assert Thread.objects.get(pk=thread.pk).blocked_until is None
    assert [data["change"] for event, data in sent if event == "thread_updated"] == ["unblocked"]
    # The visitor may write again.
    services.create_thread("Back", blocks.Visitor.of("10.0.0.2", "key"))
    page = admin_client.get(reverse("admin:chat_visitorblock_changelist") + "?active=yes")
    assert list(page.context["cl"].result_list) == []
