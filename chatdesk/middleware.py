"""Project middleware: security headers the pages need, refusals rendered as JSON, and clear
answers during outages."""

from __future__ import annotations

import logging

from django.conf import settings

from chat import widget

from .http import service_errors, service_unavailable
from .refusals import Refusal, http_response

logger = logging.getLogger("chatdesk")


class SecurityHeadersMiddleware:
    """A Content-Security-Policy the pages pass, and who may frame the chat.

    The visitor chat (/) may be framed by the sites in WIDGET_ALLOWED_ORIGINS (the
    embeddable launcher); every other page may be framed by nobody.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        frame_ancestors = "'none'"
        if request.path == "/" and widget.frame_ancestors():
            frame_ancestors = " ".join(widget.frame_ancestors())
            # X-Frame-Options cannot name origins; the CSP above is what browsers obey.
            if "X-Frame-Options" in response:
                del response["X-Frame-Options"]
        media = "'self' blob: data:"
        if settings.CLOUDINARY_URL:
            media += " https://res.cloudinary.com"
        response["Content-Security-Policy"] = (
            "default-src 'self'; "
            "script-src 'self'; "
            "style-src 'self'; "
            f"img-src {media}; "
            f"media-src {media}; "
            "connect-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; "
            f"frame-ancestors {frame_ancestors}"
        )
        return response


class RefusalMiddleware:
    """Renders what a view raises instead of answering: a `Refusal` becomes its JSON
    answer (in the request's language, with its code), and a database or Redis outage
    a 503 JSON, quickly and clearly, instead of an error page; clients (and the pages'
    outboxes) know to retry."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Refusal):
            logger.info("http_refused path=%s code=%s", request.path, exception.code)
            return http_response(exception)
        if isinstance(exception, service_errors()):
            logger.warning("service_unavailable path=%s error=%s", request.path, type(exception).__name__)
            return service_unavailable()
        return None
