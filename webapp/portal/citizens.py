"""Who the citizen is: the signed-in identity in the session, and the registry profile behind it."""
from __future__ import annotations

from typing import Any

from webapp.portal.sessions import sign_in_required, signed_in
from workers.registry import Profile


def registry_profile(number: str) -> Profile | None:
    """The population registry's profile of a citizen, through the same adapter as the population-lookup
    worker (the HTTP registry when configured, else the synthetic stand-in)."""
    from workers.population_lookup import default_registry
    return default_registry().lookup(number)


def current() -> dict[str, Any] | None:
    """The signed-in citizen (``so_dinh_danh``, ``name``, ``birthdate``) while their server-side session is open,
    or None."""
    return signed_in("citizen", "so_dinh_danh")


def citizen_required(view):
    """A view for signed-in citizens only (``g.citizen``); anyone else is sent to sign in and brought back."""
    return sign_in_required(current, "portal.login", "citizen")(view)
