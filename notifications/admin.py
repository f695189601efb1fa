from django.contrib import admin

from .models import EmailOutboxItem, Unsubscribed


@admin.register(EmailOutboxItem)
class EmailOutboxItemAdmin(admin.ModelAdmin):
    """Read-only: what was emailed to visitors, what waits, and why something failed."""

    list_display = (
        "id",
        "kind",
        "state",
        "to",
        "thread_id",
        "created_at",
        "next_attempt_at",
        "attempts",
        "sent_at",
        "note",
    )
    list_filter = ("state", "kind")
    search_fields = ("to", "thread_id", "last_error")
    ordering = ("-id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Unsubscribed)
class UnsubscribedAdmin(admin.ModelAdmin):
    list_display = ("email", "created_at")
    search_fields = ("email",)
