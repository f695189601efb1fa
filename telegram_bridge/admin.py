"""Staff can see what did not reach Telegram (and why) in the Django admin, and send
failed items again once the cause is fixed (the bot added back, the chat id corrected)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import outbox
from .models import OutboxItem, VisitorChat


@admin.register(OutboxItem)
class OutboxItemAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "priority",
        "state",
        "chat_id",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
    )
    list_filter = ("state", "kind", "priority")
    readonly_fields = [field.name for field in OutboxItem._meta.fields]
    actions = ["requeue"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_requeue_permission(self, request):
        return request.user.has_perm("telegram_bridge.change_outboxitem")

    @admin.action(description=_("Send the selected failed items again"), permissions=["requeue"])
    def requeue(self, request, queryset):
        count = outbox.requeue(queryset)
        self.message_user(
            request,
            ngettext("%(n)d failed item will be sent again.", "%(n)d failed items will be sent again.", count)
            % {"n": count},
            messages.SUCCESS if count else messages.WARNING,
        )


@admin.register(VisitorChat)
class VisitorChatAdmin(admin.ModelAdmin):
    """Visitors who continue in Telegram (issue 14): deleting a row unlinks that chat."""

    list_display = ("chat_id", "thread_id", "linked_at")
    search_fields = ("=thread_id", "=chat_id")
    readonly_fields = ("chat_id", "user_id", "thread_id", "linked_at")

    def has_add_permission(self, request):
        return False
