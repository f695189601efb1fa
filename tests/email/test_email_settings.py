"""EMAIL_URL configures Django's email settings (django-environ's parser); `make run`
(debug, no EMAIL_URL) prints emails on the console; production without it sends none."""

from __future__ import annotations

import json

from tests.test_settings import run_manage

SHOW = (
    "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k, None) for k in "
    "['EMAIL_ENABLED', 'EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD', "
    "'EMAIL_USE_TLS', 'EMAIL_USE_SSL', 'DEFAULT_FROM_EMAIL']}))"
)


def email_settings(**env: str) -> dict:
    result = run_manage("shell", "-c", SHOW, **{"EMAIL_URL": "", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_smtp_with_starttls_and_credentials():
    found = email_settings(
        DJANGO_DEBUG="1",
        EMAIL_URL="smtp+tls://mailer:p%40ss@mail.example.com:587",
        DEFAULT_FROM_EMAIL="Desk <d@x.io>",
    )
    assert found == {
        "EMAIL_ENABLED": True,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "DEFAULT_FROM_EMAIL": "Desk <d@x.io>",
    }


def test_make_run_prints_emails_and_production_without_a_url_sends_none():
    debug = email_settings(DJANGO_DEBUG="1")
    assert (debug["EMAIL_ENABLED"], debug["EMAIL_BACKEND"]) == (
        True,
        "django.core.mail.backends.console.EmailBackend",
    )
    production = email_settings(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 60)
    assert production["EMAIL_ENABLED"] is False
