"""Serve chatdesk with daphne: `python -m chatdesk.serve --port 8000 [--workers N]`.

One worker serves everything. Several workers (which need REDIS_URL, so they share
rooms) listen on consecutive ports, PORT .. PORT+N-1, behind a reverse proxy with
sticky sessions (see docs/deploy.md).

daphne is never started with `--proxy-headers`: it would take the client address from
the leftmost X-Forwarded-For entry, which the client writes itself. Whether that header
counts at all is decided by one setting, TRUSTED_PROXY_HOPS, read by chatdesk/clientip.py
for HTTP and Socket.IO alike. daphne is not meant to face the internet: put the proxy of
docs/deploy.md (timeouts, connection limits) in front of it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys


def daphne_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "daphne",
        "-b",
        host,
        "-p",
        str(port),
        "chatdesk.asgi:application",
    ]


def banner(host: str, port: int) -> str:
    """What `make run` prints: where the pages are, and how to sign in on a fresh machine."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{shown}:{port}"
    lines = [
        f"chatdesk on {base}",
        f"  visitor chat:  {base}/",
        f"  admin sign-in: {base}/login",
        f"  admin panel:   {base}/admin",
    ]
    debug, telegram = _debug_and_telegram()
    if debug and not telegram:
        lines.append("  Telegram is off and debug is on: the sign-in page shows the code it would have sent.")
    return "\n".join(lines)


def _debug_and_telegram() -> tuple[bool, bool]:
    """DEBUG and whether Telegram is configured, as the settings (and .env) say."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatdesk.settings")
    try:
        from django.conf import settings

        return bool(settings.DEBUG), bool(settings.TELEGRAM_BOT_TOKEN and settings.TELEGRAM_CHAT_ID)
    except Exception:  # settings refuse to load: daphne will say why
        return False, True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default=os.getenv("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.getenv("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.getenv("WORKERS", "1")))
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    print(banner(args.host, args.port), flush=True)
    if args.workers == 1:
        os.execv(sys.executable, daphne_command(args.host, args.port))
    if not os.getenv("REDIS_URL"):
        parser.error("several workers need REDIS_URL, so that they share rooms and state")
    procs = [subprocess.Popen(daphne_command(args.host, args.port + i)) for i in range(args.workers)]
    for i in range(args.workers):
        print(f"worker {i + 1}: http://{args.host}:{args.port + i}", flush=True)

    def stop(signum, frame):
        for proc in procs:
            proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    codes = [proc.wait() for proc in procs]
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
