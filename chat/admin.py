"""The Django admin for staff: find any conversation, read it, clear or delete it.

Everything is read-only: adding or editing a message here would bypass the domain
operations (and so the realtime notices and the Telegram bridge). The only changes staff
can make are the two the panel offers too, clearing and deleting threads, and both go
through chat.services, so connected panels and visitors are told.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import Truncator

from . import services
from .models import (
    BusinessHours,
    CannedReply,
    Holiday,
    Message,
    MessageEdit,
    TelegramLink,
    Thread,
    VisitorBlock,
    WeeklyHours,
)

# The thread page shows this many of a thread's newest messages; the rest are one click
# away in the message list (a thread can hold more than a page should render).
INLINE_MESSAGES = 200
EXCERPT_CHARS = 80


def _safe_media_url(url: str | None) -> str | None:
    """Only our own upload paths and https URLs (Cloudinary) become src attributes."""
    if not url:
        return None
    if (url.startswith("/uploads/") and "//" not in url) or url.startswith("https://"):
        return url
    return None


def render_content(message: Message):
    """A message as staff should see it: text, an image thumbnail or an audio player."""
    url = _safe_media_url(message.file_path)
    if message.type == Message.Type.IMAGE and url:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="image" height="80" '
            'loading="lazy"></a>',
            url,
            url,
        )
    if message.type == Message.Type.AUDIO and url:
        return format_html('<audio controls preload="none" src="{}"></audio>', url)
    if message.file_path:
        return message.file_path
    return message.content_text or ""


class OnlineFilter(admin.SimpleListFilter):
    title = "visitor"
    parameter_name = "presence"

    def lookups(self, request, model_admin):
        return [("online", "online"), ("offline", "offline")]

    def queryset(self, request, queryset):
        cutoff = timezone.now() - timedelta(seconds=settings.ONLINE_WINDOW_SECONDS)
        if self.value() == "online":
            return queryset.filter(last_activity_at__gte=cutoff)
        if self.value() == "offline":
            return queryset.filter(Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True))
        return queryset


class ReadOnlyMixin:
    """View permission only: staff look, the domain operations change."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MessageInline(ReadOnlyMixin, admin.TabularInline):
    model = Message
    fields = ("created_at", "sender", "type", "content", "client_id")
    readonly_fields = fields
    ordering = ("created_at",)
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = f"messages (the newest {INLINE_MESSAGES})"

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="content")
    def content(self, message: Message):
        return render_content(message)


class TelegramLinkInline(ReadOnlyMixin, admin.TabularInline):
    model = TelegramLink
    fields = ("chat_id", "message_id", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_delete_permission(self, request, obj=None):
        return False


class MessageEditInline(ReadOnlyMixin, admin.TabularInline):
    """A reply's earlier texts (issue 15): what it said before each correction, who
    corrected it and where."""

    model = MessageEdit
    fields = ("edited_at", "previous_text", "via", "agent")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("edited_at",)
    verbose_name_plural = "earlier texts (edits)"

    def has_delete_permission(self, request, obj=None):
        return False


def _message_count():
    """Messages per thread as a correlated subquery: computed only for the rows shown."""
    counts = (
        Message.objects.filter(thread=OuterRef("pk"))
        .order_by()
        .values("thread")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


@admin.register(Thread)
class ThreadAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "display_name",
        "created_at",
        "last_activity_at",
        "last_message_at",
        "message_count",
        "online",
        "status",
    )
    list_filter = (OnlineFilter, "status", "created_at", "last_activity_at", "last_message_at")
    search_fields = ("display_name", "messages__content_text")
    search_help_text = "Search by visitor name or by any word of a message."
    ordering = ("-sorted_at",)
    list_per_page = 50
    # One COUNT for the page count is enough; the "N total" figure would be a second one.
    show_full_result_count = False
    fields = (
        "id",
        "display_name",
        "created_at",
        "last_activity_at",
        "last_message_at",
        "last_message_type",
        "last_message_text",
        "status",
        "first_response_at",
        "resolved_at",
        "blocked_until",
        "message_count",
        "all_messages",
    )
    readonly_fields = fields
    inlines = (MessageInline, TelegramLinkInline)
    actions = ("clear_messages",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(message_count=_message_count())

    @admin.display(description="messages", ordering="message_count")
    def message_count(self, thread: Thread) -> int:
        count = getattr(thread, "message_count", None)
        return count if count is not None else thread.messages.count()

    @admin.display(boolean=True, description="online")
    def online(self, thread: Thread) -> bool:
        if thread.last_activity_at is None:
            return False
        return (timezone.now() - thread.last_activity_at).total_seconds() <= settings.ONLINE_WINDOW_SECONDS

    @admin.display(description="all messages")
    def all_messages(self, thread: Thread):
        url = (
            reverse("admin:chat_message_changelist") + "?" + urlencode({"thread__id__exact": str(thread.pk)})
        )
        return format_html('<a href="{}">Every message of this thread in the message list</a>', url)

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, MessageInline) and obj is not None:
            newest = Message.objects.filter(thread=obj).order_by("-created_at").values("pk")[:INLINE_MESSAGES]
            kwargs["queryset"] = kwargs["queryset"].filter(pk__in=Subquery(newest))
        return kwargs

    # --- Changes go through the domain operations -----------------------------------

    @admin.action(description="Clear the messages of the selected threads", permissions=("delete",))
    def clear_messages(self, request, queryset):
        cleared = 0
        for thread_id in queryset.values_list("pk", flat=True):
            try:
                cleared += services.clear_thread(thread_id)
            except services.ThreadNotFound:
                continue  # deleted meanwhile: nothing left to clear
        self.message_user(request, f"Cleared {cleared} messages.", messages.SUCCESS)

    def get_deleted_objects(self, objs, request):
        """A summary instead of Django's list of every related row (a thread may hold a
        million messages; the confirmation page must not load them)."""
        threads = list(objs)
        ids = [t.pk for t in threads]
        model_count = {
            "threads": len(threads),
            "messages": Message.objects.filter(thread_id__in=ids).count(),
            "Telegram links": TelegramLink.objects.filter(thread_id__in=ids).count(),
        }
        perms_needed = set() if self.has_delete_permission(request) else {"thread"}
        return [str(t) for t in threads], model_count, perms_needed, []

    def delete_model(self, request, obj):
        services.delete_threads([obj.pk])

    def delete_queryset(self, request, queryset):
        services.delete_threads(queryset.values_list("pk", flat=True))


@admin.register(Message)
class MessageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "thread_link", "sender", "type", "excerpt")
    list_filter = ("sender", "type", "created_at")
    search_fields = ("content_text",)
    search_help_text = "Search the text of messages."
    list_select_related = ("thread",)
    ordering = ("-created_at",)
    list_per_page = 100
    show_full_result_count = False
    fields = (
        "id",
        "thread_link",
        "sender",
        "type",
        "created_at",
        "content",
        "content_text",
        "file_path",
        "client_id",
        "edited_at",
    )
    readonly_fields = fields
    inlines = (MessageEditInline,)

    def has_delete_permission(self, request, obj=None):
        # There is no domain operation for deleting one message; clear the thread instead.
        return False

    @admin.display(description="thread", ordering="thread__display_name")
    def thread_link(self, message: Message):
        url = reverse("admin:chat_thread_change", args=[message.thread_id])
        return format_html('<a href="{}">{}</a>', url, message.thread.display_name)

    @admin.display(description="text")
    def excerpt(self, message: Message) -> str:
        if message.type != Message.Type.TEXT:
            return f"[{message.type}]"
        return Truncator(message.content_text or "").chars(EXCERPT_CHARS)

    @admin.display(description="content")
    def content(self, message: Message):
        return render_content(message)


@admin.register(TelegramLink)
class TelegramLinkAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "chat_id", "message_id", "thread")
    list_select_related = ("thread",)
    search_fields = ("=chat_id", "=message_id")
    ordering = ("-created_at",)
    show_full_result_count = False
    readonly_fields = ("chat_id", "message_id", "thread", "created_at")

    def has_delete_permission(self, request, obj=None):
        return False


# --- Availability (issue 14): business hours, edited here ---------------------------------


class WeeklyHoursInline(admin.TabularInline):
    model = WeeklyHours
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    """When the desk answers: outside these hours visitors see "We're away" and are asked
    for an email address. Without an active schedule the desk keeps no hours."""

    list_display = ("name", "time_zone", "active")
    inlines = [WeeklyHoursInline, HolidayInline]


# --- The desk (issue 13): canned replies are edited here; blocks are lifted here -----------


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    """Saved answers agents insert by typing /shortcut in the panel's composer."""

    list_display = ("shortcut", "language", "excerpt", "updated_at")
    list_filter = ("language",)
    search_fields = ("shortcut", "text")
    ordering = ("shortcut", "language")
    fields = ("shortcut", "language", "text")

    @admin.display(description="text")
    def excerpt(self, reply: CannedReply) -> str:
        return Truncator(reply.text).chars(EXCERPT_CHARS)


class ActiveBlockFilter(admin.SimpleListFilter):
    title = "in force"
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", "in force"), ("no", "ended")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(expires_at__gt=timezone.now())
        if self.value() == "no":
            return queryset.filter(expires_at__lte=timezone.now())
        return queryset


@admin.register(VisitorBlock)
class VisitorBlockAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Visitors an agent blocked: they cannot write or open conversations until the block
    ends. "Unblock" ends it now (through chat.services, so the panels are told); the
    record and its count of refused attempts stay."""

    list_display = (
        "display_name",
        "ip",
        "created_at",
        "expires_at",
        "in_force",
        "attempts",
        "last_attempt_at",
    )
    list_filter = (ActiveBlockFilter, "created_at")
    search_fields = ("display_name", "=ip")
    ordering = ("-created_at",)
    fields = ("display_name", "ip", "thread", "created_at", "expires_at", "attempts", "last_attempt_at")
    readonly_fields = fields
    actions = ("unblock",)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="in force")
    def in_force(self, block: VisitorBlock) -> bool:
        return block.expires_at > timezone.now()

    @admin.action(description="Unblock the selected visitors now", permissions=("view",))
    def unblock(self, request, queryset):
        lifted = sum(services.unblock(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"Unblocked {lifted} visitors.", messages.SUCCESS)
