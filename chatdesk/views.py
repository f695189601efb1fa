"""Project-wide views: favicon, and the JSON answers Django gives instead of error pages."""

import sys

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from . import refusals
from .http import service_errors, service_unavailable


@require_GET
def favicon(request):
    return HttpResponse(status=204)


def csrf_failure(request, reason: str = ""):
    """CSRF refusals answer in the API's JSON shape, so scripts see why."""
    return refusals.http_response(refusals.CsrfFailed())


def bad_request(request, exception=None):
    """A body Django cannot parse (e.g. multipart without a boundary): JSON, like every refusal."""
    return refusals.http_response(refusals.MalformedRequest())


def server_error(request):
    """Errors answer in the API's JSON shape; a database or Redis outage is a 503."""
    if isinstance(sys.exc_info()[1], service_errors()):
        return service_unavailable()
    return refusals.http_response(refusals.ServerError())
