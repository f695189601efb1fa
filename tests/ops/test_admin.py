"""The Django admin as a staff user sees it: lists, search, filters, thread pages, actions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chat import services, signals
from chat.models import Message, TelegramLink, Thread
from chat.validation import MessageInput

pytestmark = pytest.mark.django_db


def post(
    thread: Thread,
    text: str | None = None,
    sender: str = "visitor",
    type: str = "text",
    file_url: str | None = None,
) -> Message:
    data = MessageInput(thread_id=thread.id, type=type, text=text, file_url=file_url, client_id=None)
    if sender == "visitor":
        return services.post_visitor_message(data, via="test")[0]
    return services.post_admin_message(data, via="test")[0]


@pytest.fixture
def threads():
    ayse = services.create_thread("Ayşe")
    post(ayse, "merhaba, kargom nerede?")
    post(ayse, "Kargonuz yolda.", sender="admin")
    post(ayse, type="image", file_url="/uploads/images/abc.jpg")
    post(ayse, type="audio", file_url="/uploads/audio/voice.webm")
    TelegramLink.objects.create(chat_id=-100123, message_id=42, thread=ayse)
    bob = services.create_thread("Bob")
    post(bob, "where is the <b>invoice</b>?")
    idle = services.create_thread("Idle Ian")
    Thread.objects.filter(pk=idle.pk).update(last_activity_at=timezone.now() - timedelta(hours=3))
    return {"ayse": ayse, "bob": bob, "idle": idle}


def changelist(model: str) -> str:
    return reverse(f"admin:chat_{model}_changelist")


def test_staff_needs_to_sign_in(client):
    response = client.get(changelist("thread"))
    assert response.status_code == 302
    assert "/django-admin/login/" in response["Location"]


def test_thread_list_shows_counts_and_times(admin_client, threads):
    response = admin_client.get(changelist("thread"))
    assert response.status_code == 200
    rows = {t.display_name: t for t in response.context["cl"].result_list}
    assert set(rows) == {"Ayşe", "Bob", "Idle Ian"}
    assert rows["Ayşe"].message_count == 4
    assert rows["Bob"].message_count == 1
    assert rows["Idle Ian"].message_count == 0
    html = response.content.decode()
    for column in ("Display name", "Created at", "Last activity at", "Last message at", "Messages"):
        assert column in html


def test_thread_list_does_not_count_per_row(admin_client, threads, django_assert_max_num_queries):
    for i in range(30):
        post(services.create_thread(f"visitor {i}"), "hi")
    # Session, user, the page COUNT and the page itself: not one query per thread.
    with django_assert_max_num_queries(6):
        assert admin_client.get(changelist("thread")).status_code == 200


@pytest.mark.parametrize(
    ("query", "expected"),
    [("ayş", {"Ayşe"}), ("kargom", {"Ayşe"}), ("invoice", {"Bob"}), ("yolda", {"Ayşe"}), ("nothing", set())],
)
def test_thread_search_by_name_and_message_text(admin_client, threads, query, expected):
    response = admin_client.get(changelist("thread"), {"q": query})
    names = [t.display_name for t in response.context["cl"].result_list]
    assert set(names) == expected
    assert len(names) == len(set(names)), "a thread matching several messages is listed once"


def test_thread_filters_online_and_dates(admin_client, threads):
    online = admin_client.get(changelist("thread"), {"presence": "online"})
    assert {t.display_name for t in online.context["cl"].result_list} == {"Ayşe", "Bob"}
    offline = admin_client.get(changelist("thread"), {"presence": "offline"})
    assert {t.display_name for t in offline.context["cl"].result_list} == {"Idle Ian"}
    yesterday = (timezone.localtime() - timedelta(days=1)).isoformat()
    by_date = admin_client.get(
        changelist("thread"),
        {"last_activity_at__gte": yesterday, "last_activity_at__lt": "2999-01-01T00:00:00+00:00"},
    )
    assert by_date.status_code == 200
    assert len(by_date.context["cl"].result_list) == 3
    never = admin_client.get(changelist("thread"), {"created_at__gte": "2999-01-01T00:00:00+00:00"})
    assert list(never.context["cl"].result_list) == []


def test_thread_page_shows_messages_media_and_telegram_links(admin_client, threads):
    ayse = threads["ayse"]
    response = admin_client.get(reverse("admin:chat_thread_change", args=[ayse.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "merhaba, kargom nerede?" in html
    assert "Kargonuz yolda." in html
    assert '<img src="/uploads/images/abc.jpg"' in html
    assert '<audio controls preload="none" src="/uploads/audio/voice.webm"></audio>' in html
    assert "-100123" in html and "42" in html
    # Read-only: no form fields for messages, no add row, no save button.
    assert 'name="messages-0-content_text"' not in html
    assert 'name="_save"' not in html


def test_message_text_is_escaped(admin_client, threads):
    response = admin_client.get(reverse("admin:chat_thread_change", args=[threads["bob"].pk]))
    html = response.content.decode()
    assert "where is the &lt;b&gt;invoice&lt;/b&gt;?" in html
    assert "<b>invoice</b>" not in html


def test_media_urls_that_are_not_ours_are_not_embedded(admin_client, threads):
    thread = threads["bob"]
    Message.objects.create(thread=thread, sender="visitor", type="image", file_path="javascript:alert(1)")
    html = admin_client.get(reverse("admin:chat_thread_change", args=[thread.pk])).content.decode()
    assert 'src="javascript:' not in html
    assert 'href="javascript:' not in html


def test_thread_page_shows_only_the_newest_messages(admin_client, settings, monkeypatch):
    from chat import admin as chat_admin

    monkeypatch.setattr(chat_admin, "INLINE_MESSAGES", 3)
    thread = services.create_thread("Chatty")
    for i in range(6):
        post(thread, f"line-{i}-end")
    html = admin_client.get(reverse("admin:chat_thread_change", args=[thread.pk])).content.decode()
    assert [f"line-{i}-end" in html for i in range(6)] == [False, False, False, True, True, True]
    assert f"thread__id__exact={thread.pk}" in html


def test_message_list_search_and_filters(admin_client, threads):
    response = admin_client.get(changelist("message"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 5
    html = response.content.decode()
    assert "[image]" in html and "[audio]" in html and "Ayşe" in html
    found = admin_client.get(changelist("message"), {"q": "invoice"}).context["cl"].result_list
    assert [m.content_text for m in found] == ["where is the <b>invoice</b>?"]
    admins = admin_client.get(changelist("message"), {"sender__exact": "admin"}).context["cl"].result_list
    assert [m.content_text for m in admins] == ["Kargonuz yolda."]
    images = admin_client.get(changelist("message"), {"type__exact": "image"}).context["cl"].result_list
    assert [m.file_path for m in images] == ["/uploads/images/abc.jpg"]
    today = admin_client.get(
        changelist("message"), {"created_at__gte": (timezone.localtime() - timedelta(days=1)).isoformat()}
    )
    assert len(today.context["cl"].result_list) == 5
    by_thread = admin_client.get(changelist("message"), {"thread__id__exact": str(threads["bob"].pk)})
    assert len(by_thread.context["cl"].result_list) == 1


def test_message_page_is_read_only(admin_client, threads):
    message = threads["bob"].messages.get()
    url = reverse("admin:chat_message_change", args=[message.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert admin_client.post(url, {"content_text": "forged"}).status_code == 403
    assert admin_client.get(reverse("admin:chat_message_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:chat_message_delete", args=[message.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    message.refresh_from_db()
    assert message.content_text == "where is the <b>invoice</b>?"


def test_thread_cannot_be_added_or_edited(admin_client, threads):
    assert admin_client.get(reverse("admin:chat_thread_add")).status_code == 403
    url = reverse("admin:chat_thread_change", args=[threads["bob"].pk])
    assert admin_client.post(url, {"display_name": "Renamed"}).status_code == 403
    assert Thread.objects.get(pk=threads["bob"].pk).display_name == "Bob"


def test_telegram_links_list_is_read_only(admin_client, threads):
    response = admin_client.get(changelist("telegramlink"))
    assert response.status_code == 200
    assert "-100123" in response.content.decode()
    assert admin_client.get(changelist("telegramlink"), {"q": "not-a-number"}).status_code == 200
    assert admin_client.get(reverse("admin:chat_telegramlink_add")).status_code == 403
    link = TelegramLink.objects.get()
    change_url = reverse("admin:chat_telegramlink_change", args=[link.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert page.context["has_delete_permission"] is False


def test_telegram_links_cannot_be_changed_or_deleted(admin_client, threads):
    """A link is how a Telegram reply finds its visitor: staff may look, never edit or delete."""
    from django.contrib import admin as django_admin

    link = TelegramLink.objects.get()
    model_admin = django_admin.site._registry[TelegramLink]
    request = admin_client.get(changelist("telegramlink")).wsgi_request
    assert model_admin.has_delete_permission(request) is False
    assert model_admin.has_delete_permission(request, link) is False
    assert model_admin.has_change_permission(request, link) is False
    assert "delete_selected" not in model_admin.get_actions(request)

    change = admin_client.post(
        reverse("admin:chat_telegramlink_change", args=[link.pk]),
        {"chat_id": "1", "message_id": "1", "thread": str(threads["bob"].pk)},
    )
    assert change.status_code == 403
    assert admin_client.get(reverse("admin:chat_telegramlink_delete", args=[link.pk])).status_code == 403
    delete = admin_client.post(reverse("admin:chat_telegramlink_delete", args=[link.pk]), {"post": "yes"})
    assert delete.status_code == 403
    bulk = admin_client.post(
        changelist("telegramlink"),
        {"action": "delete_selected", "_selected_action": [str(link.pk)], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)  # Django answers an unknown action with the list again
    assert list(TelegramLink.objects.values_list("chat_id", "message_id", "thread_id")) == [
        (-100123, 42, threads["ayse"].pk)
    ]


def test_admin_index_lists_the_chat_models(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "Threads" in html and "Messages" in html and "Telegram links" in html


@pytest.fixture
def heard():
    """What the domain operations announced (the signals the Telegram bridge follows)."""
    events: list[tuple[str, object]] = []

    def cleared(sender, thread_id, **kwargs):
        events.append(("cleared", str(thread_id)))

    def deleted(sender, thread_ids, **kwargs):
        events.append(("deleted", sorted(str(t) for t in thread_ids)))

    signals.thread_cleared.connect(cleared)
    signals.threads_deleted.connect(deleted)
    yield events
    signals.thread_cleared.disconnect(cleared)
    signals.threads_deleted.disconnect(deleted)


def test_action_clear_messages(admin_client, threads, heard):
    ayse, bob, idle = threads["ayse"], threads["bob"], threads["idle"]
    response = admin_client.post(
        changelist("thread"),
        {"action": "clear_messages", "_selected_action": [str(ayse.pk), str(bob.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Cleared 5 messages." in response.content.decode()
    assert Message.objects.count() == 0
    assert Thread.objects.count() == 3, "clearing keeps the threads"
    assert sorted(heard) == sorted([("cleared", str(ayse.pk)), ("cleared", str(bob.pk))])
    ayse.refresh_from_db()
    assert ayse.last_message_text is None and not ayse.has_messages
    assert idle.pk


def test_action_delete_selected_confirms_then_deletes_through_the_domain(admin_client, threads, heard):
    ayse, bob = threads["ayse"], threads["bob"]
    selected = [str(ayse.pk), str(bob.pk)]
    confirm = admin_client.post(
        changelist("thread"), {"action": "delete_selected", "_selected_action": selected}
    )
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "Are you sure" in html and "Messages: 5" in html and "Telegram links: 1" in html
    assert Thread.objects.count() == 3, "nothing goes before the confirmation"
    done = admin_client.post(
        changelist("thread"),
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
        follow=True,
    )
    assert done.status_code == 200
    assert list(Thread.objects.values_list("display_name", flat=True)) == ["Idle Ian"]
    assert Message.objects.count() == 0 and TelegramLink.objects.count() == 0
    assert heard == [("deleted", sorted(selected))]


def test_single_thread_delete_goes_through_the_domain(admin_client, threads, heard):
    bob = threads["bob"]
    url = reverse("admin:chat_thread_delete", args=[bob.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and "Messages: 1" in page.content.decode()
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Thread.objects.filter(pk=bob.pk).exists()
    assert heard == [("deleted", [str(bob.pk)])]


def test_unknown_thread_page_redirects_not_500(admin_client):
    response = admin_client.get(reverse("admin:chat_thread_change", args=[uuid.uuid4()]))
    assert response.status_code == 302
    assert admin_client.get("/django-admin/chat/thread/not-a-uuid/change/").status_code == 302


def test_staff_without_delete_permission_cannot_run_actions(client, django_user_model, threads):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-123", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_thread", "view_message"]))
    client.force_login(viewer)
    response = client.get(changelist("thread"))
    assert response.status_code == 200
    assert "clear_messages" not in response.content.decode()
    client.post(
        changelist("thread"), {"action": "clear_messages", "_selected_action": [str(threads["bob"].pk)]}
    )
    assert threads["bob"].messages.count() == 1


def test_admin_pages_pass_the_content_security_policy(admin_client, threads):
    """No inline <script> or style= attribute on the pages: the CSP would block them."""
    import re

    pages = [
        reverse("admin:index"),
        changelist("thread"),
        changelist("message"),
        changelist("telegramlink"),
        reverse("admin:chat_thread_change", args=[threads["ayse"].pk]),
        reverse("admin:chat_thread_delete", args=[threads["ayse"].pk]),
    ]
    for url in pages:
        response = admin_client.get(url)
        assert "script-src 'self'" in response["Content-Security-Policy"]
        html = response.content.decode()
        inline_scripts = [s for s in re.findall(r"<script([^>]*)>", html) if "src=" not in s]
        # Django keeps data in <script type="application/json">, which is not executed.
        assert all('type="application/json"' in s for s in inline_scripts), (url, inline_scripts)
        assert not re.search(r"\sstyle=\"", html), url
        assert not re.search(r"\son[a-z]+=\"", html), url


def test_a_corrected_reply_shows_its_earlier_texts(admin_client, threads):
    reply = threads["ayse"].messages.get(sender="admin")
    services.edit_message(reply.id, "Kargonuz yarın gelir.", "telegram")
    services.edit_message(reply.id, "Kargonuz bugün gelir.", "telegram")
    page = admin_client.get(reverse("admin:chat_message_change", args=[reply.pk])).content.decode()
    assert "earlier texts (edits)" in page.lower()
    assert page.index("Kargonuz yolda.") < page.index("Kargonuz yarın gelir.")
    assert "Kargonuz bugün gelir." in page  # the text now
