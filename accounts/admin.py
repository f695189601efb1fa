"""The Django admin for agents: staff add, rename, picture and deactivate them.

A picture can be a URL or an uploaded image: uploads go through the chat's upload
storage (checked by content and re-encoded like visitors' photos), and the agent keeps
its URL. Deactivating (the field or the action) ends the agent's panel sessions.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from chatdesk.refusals import Refusal

from . import signin
from .models import Agent


class AgentForm(forms.ModelForm):
    avatar_upload = forms.ImageField(
        required=False,
        label="Upload a picture",
        help_text="PNG, JPEG, GIF or WebP; stored like visitors' photos. Replaces the URL above.",
    )

    class Meta:
        model = Agent
        fields = (
            "name",
            "avatar_url",
            "avatar_upload",
            "telegram_user_id",
            "telegram_username",
            "telegram_private_chat_id",
            "is_active",
        )

    def clean_avatar_url(self):
        url = self.cleaned_data.get("avatar_url", "").strip()
        if url and (not url.startswith(("https://", "http://", "/")) or url.startswith("//")):
            raise forms.ValidationError("An http(s) URL, or upload a picture below.")
        return url

    def clean(self):
        data = super().clean()
        upload = data.get("avatar_upload")
        if upload:
            from chat.attachments.files import StorageFailed, store_file

            upload.seek(0)
            try:
                data["avatar_url"] = store_file("image", upload, upload.name)
            except (Refusal, StorageFailed) as exc:
                self.add_error("avatar_upload", str(exc.text() if isinstance(exc, Refusal) else exc))
        return data

    def save(self, commit=True):
        agent = super().save(commit=False)
        agent.avatar_url = self.cleaned_data.get("avatar_url") or ""
        if commit:
            agent.save()
        return agent


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    form = AgentForm
    list_display = (
        "name",
        "picture",
        "telegram_username",
        "telegram_user_id",
        "reachable",
        "is_active",
        "created_at",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "telegram_username")
    readonly_fields = ("created_at",)
    actions = ("deactivate",)

    @admin.display(description="Picture")
    def picture(self, agent: Agent):
        if not agent.avatar_url:
            return "—"
        return format_html('<img src="{}" alt="" width="28" height="28">', agent.avatar_url)

    @admin.display(boolean=True, description="Bot reaches privately")
    def reachable(self, agent: Agent) -> bool:
        return bool(agent.telegram_private_chat_id)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            ended = signin.sign_out_agent(obj)
            self.message_user(request, f"{obj.name}: {ended} panel session(s) ended.")

    @admin.action(description="Deactivate the selected agents (ends their panel sessions)")
    def deactivate(self, request, queryset):
        ended = 0
        for agent in queryset.filter(is_active=True):
            agent.is_active = False
            agent.save(update_fields=["is_active"])
            ended += signin.sign_out_agent(agent)
        self.message_user(request, f"Deactivated; {ended} panel session(s) ended.", messages.SUCCESS)
