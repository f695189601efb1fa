"""The embeddable launcher's side of the server: which sites may frame the chat.

The chat page's CSP `frame-ancestors` lists WIDGET_ALLOWED_ORIGINS (plus, in debug,
http://localhost and http://127.0.0.1 on any port, so the quickstart's test page works).
The launcher asks GET /widget/status first, so a site that is not listed gets a clear
message in its console instead of a grey, refused frame.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

DEBUG_HOSTS = ("localhost", "127.0.0.1")


def frame_ancestors() -> list[str]:
    """The CSP frame-ancestors sources of the chat page (empty: nobody may frame it)."""
    origins = list(settings.WIDGET_ALLOWED_ORIGINS)
    if settings.DEBUG:
        origins += [f"http://{host}:*" for host in DEBUG_HOSTS] + [f"http://{host}" for host in DEBUG_HOSTS]
    return origins


def origin_allowed(origin: str) -> bool:
    if not origin:
        return False
    if origin.rstrip("/") in [o.rstrip("/") for o in settings.WIDGET_ALLOWED_ORIGINS]:
        return True
    if settings.DEBUG:
        parts = urlsplit(origin)
        return parts.scheme == "http" and parts.hostname in DEBUG_HOSTS
    return False


@require_GET
def widget_status(request: HttpRequest) -> HttpResponse:
    """{"allowed": bool}: may the page that asks (its Origin) embed the chat? Readable
    from any site (no cookies are involved), answered per origin."""
    origin = request.headers.get("Origin", "")
    response = JsonResponse({"allowed": origin_allowed(origin)})
    response["Access-Control-Allow-Origin"] = origin if origin else "*"
    response["Vary"] = "Origin"
    response["Cache-Control"] = "no-store"
    return response
