"""A tiny threaded HTTP server on 127.0.0.1, the base of the fake external services."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(handle: Callable[[BaseHTTPRequestHandler], None], port: int = 0) -> ThreadingHTTPServer:
    """Answer every GET and POST with `handle(request)`, in daemon threads, until stopped.

    Port 0 picks a free port; passing an earlier server's port brings a fake "back".
    """

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            handle(self)

        do_GET = do_POST

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def stop(httpd: ThreadingHTTPServer) -> None:
    httpd.shutdown()
    httpd.server_close()
