"""Staff can see what did not reach Telegram (and why) in the Django admin."""

from django.contrib import admin

from .models import OutboxItem


@admin.register(OutboxItem)
class OutboxItemAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "priority",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
    )
    list_filter = ("state", "kind", "priority")
    readonly_fields = [field.name for field in OutboxItem._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
