"""A chatdesk server that emails through a real SMTP server on 127.0.0.1, with short delays."""

from __future__ import annotations

import pytest

from tests.support.server import LiveServer, free_port
from tests.support.smtp import SMTPServer

HEALTHZ_TOKEN = "email-tests-token"


@pytest.fixture(scope="package")
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def email_server(smtp):
    port = free_port()
    live = LiveServer(
        port=port,
        env={
            "EMAIL_URL": smtp.url,
            "DEFAULT_FROM_EMAIL": "Support <support@chatdesk.test>",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "EMAIL_UNSEEN_SECONDS": "2",
            "EMAIL_BATCH_SECONDS": "4",
            "EMAIL_RETRY_BASE_SECONDS": "1",
            "EMAIL_RETRY_MAX_SECONDS": "1",
            "EMAIL_TIMEOUT": "5",
            "AVAILABILITY_CHECK_SECONDS": "1",
            "AVAILABILITY_MEDIAN_CACHE_SECONDS": "0",
            "HEALTHZ_TOKEN": HEALTHZ_TOKEN,
        },
    )
    live.start()
    yield live
    live.cleanup()
