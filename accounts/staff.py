"""django-axes glue for the staff's Django admin sign-in (password guesses are limited
per client address and username; lockouts are listed in the admin under "Axes")."""

from __future__ import annotations

from django.http import HttpRequest

from chatdesk.clientip import client_ip


def client_address(request: HttpRequest) -> str:
    """The address axes counts failures by: the same one every other limit uses."""
    return client_ip(request.META)
