"""A tiny threaded HTTP server on 127.0.0.1, the base of the fake external services."""

from __future__ import annotations

import threading
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(handle: Callable[[BaseHTTPRequestHandler], None], port: int = 0) -> ThreadingHTTPServer:
    """Answer every GET and POST with `handle(request)`, in daemon threads, until stopped.

    Port 0 picks a free port; passing an earlier server's port brings a fake "back".
    """

    class Handler(BaseHTTPRequestHandler):
        # Headers and body leave in separate writes: without TCP_NODELAY the body waits
        # for the client's delayed ACK (40 ms a call on Linux).
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def do_POST(self):
            handle(self)

        do_GET = do_POST

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd


def stop(httpd: ThreadingHTTPServer) -> None:
    httpd.shutdown()
    httpd.server_close()


def parse_multipart(content_type: str, raw: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """A multipart/form-data body as (fields, files), files as name -> (filename, bytes)."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files[name] = (part.get_filename(), payload)
        else:
            fields[name] = payload.decode()
    return fields, files
