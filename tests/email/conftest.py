"""A chatdesk server that emails through a real SMTP server on 127.0.0.1, with short delays."""

from __future__ import annotations

import pytest

from tests.support.smtp import HEALTHZ_TOKEN, SMTPServer, start_email_server

__all__ = ["HEALTHZ_TOKEN"]


@pytest.fixture(scope="package")
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def email_server(smtp):
    live = start_email_server(smtp)
    yield live
    live.cleanup()
