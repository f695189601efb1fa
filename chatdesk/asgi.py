"""The one ASGI application: Socket.IO under /socket.io/, everything else Django."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatdesk.settings")

import django  # noqa: E402

django.setup()

import socketio  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

from chat import sockets  # noqa: E402,F401  (registers the event handlers)
from chat.body_limit import BodyLimitMiddleware, install_daphne_body_limit  # noqa: E402
from chat.realtime import bind_server_loop, sio  # noqa: E402
from telegram_bridge.worker import start_in_background as start_telegram_worker  # noqa: E402

# The Telegram outbox sender and update handler (threads; only when Telegram is set up).
start_telegram_worker()

# Request bodies are capped while they arrive (daphne buffers them before the app runs).
install_daphne_body_limit()
django_application = ProtocolTypeRouter({"http": BodyLimitMiddleware(get_asgi_application())})


async def _django_with_loop(scope, receive, send):
    # Domain operations started by a request (a Telegram webhook, a clear from the
    # panel) emit through this loop, so remember it before the first one runs.
    import asyncio

    bind_server_loop(asyncio.get_running_loop())
    await django_application(scope, receive, send)


application = socketio.ASGIApp(sio, other_asgi_app=_django_with_loop, socketio_path="socket.io")
