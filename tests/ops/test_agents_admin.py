"""The Django admin's agents (issue 13, part A): staff add one with an uploaded picture
(stored through the upload storage, re-encoded), list them, and deactivate."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from accounts.models import Agent

pytestmark = pytest.mark.django_db


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_staff_add_an_agent_with_an_uploaded_picture_and_deactivate_it(admin_client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": "/uploads/"},
        },
    }
    from django.core.files.uploadedfile import SimpleUploadedFile

    answer = admin_client.post(
        reverse("admin:accounts_agent_add"),
        {
            "name": "Ayşe",
            "avatar_url": "",
            "avatar_upload": SimpleUploadedFile("me.png", png(), content_type="image/png"),
            "telegram_username": "ayse",
            "is_active": "on",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    agent = Agent.objects.get(name="Ayşe")
    assert agent.avatar_url.startswith("/uploads/images/") and agent.avatar_url.endswith(".png")
    stored = list((tmp_path / "images").iterdir())
    assert [f"/uploads/images/{f.name}" for f in stored] == [agent.avatar_url]
    listing = admin_client.get(reverse("admin:accounts_agent_changelist"))
    assert listing.status_code == 200 and "Ayşe" in listing.content.decode()
    refused = admin_client.post(
        reverse("admin:accounts_agent_add"), {"name": "Bad", "avatar_url": "javascript:alert(1)"}
    )
    assert refused.status_code == 200 and not Agent.objects.filter(name="Bad").exists()
    admin_client.post(
        reverse("admin:accounts_agent_changelist"),
        {"action": "deactivate", "_selected_action": [agent.pk]},
    )
    agent.refresh_from_db()
    assert agent.is_active is False
