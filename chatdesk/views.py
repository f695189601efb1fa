"""Project-wide views: favicon, CSRF failures, health."""

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from .http import json_error


@require_GET
def favicon(request):
    return HttpResponse(status=204)


def csrf_failure(request, reason: str = ""):
    """CSRF refusals answer in the API's JSON shape, so scripts see why."""
    return json_error("CSRF check failed: reload the page and try again.", status=403)


def bad_request(request, exception=None):
    """A body Django cannot parse (e.g. multipart without a boundary): JSON, like every refusal."""
    return json_error("Malformed request.", status=400)


def server_error(request):
    """Errors answer in the API's JSON shape; a database or Redis outage is a 503."""
    import sys

    from .http import service_errors, service_unavailable

    if isinstance(sys.exc_info()[1], service_errors()):
        return service_unavailable()
    return json_error("Server error; please retry.", status=500)
