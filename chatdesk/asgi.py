"""The one ASGI application: Socket.IO under /socket.io/, everything else Django."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatdesk.settings")

import django  # noqa: E402

django.setup()

from chatdesk.startup import start_server_process  # noqa: E402

application = start_server_process()
