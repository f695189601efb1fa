"""Guards for admin-only views."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from chatdesk.refusals import AdminRequired, http_response

from .signin import is_admin

__all__ = ["admin_required_json", "admin_required_page", "is_admin"]


def admin_required_json(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """API views: 401 JSON without an admin session, never data."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_admin(request):
            return http_response(AdminRequired())
        return view(request, *args, **kwargs)

    return wrapper


def admin_required_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages: send a visitor without an admin session to the sign-in page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_admin(request):
            return redirect("/login")
        return view(request, *args, **kwargs)

    return wrapper
