"""Topic ``population-lookup``: check the citizen's identification number and fetch the registry profile."""
from __future__ import annotations

from typing import Any

from workers import citizen_id
from workers.errors import BpmnError
from workers.registry import Registry

TOPIC = "population-lookup"
_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """The configured registry: over HTTP when ``MOTCUA_REGISTRY_URL`` is set, else the stand-in table of
    synthetic citizens in ``MOTCUA_VAR_DIR/registry.db``."""
    global _DEFAULT
    if _DEFAULT is None:
        from engine.config import load_settings
        settings = load_settings()
        if settings.registry_url:
            from workers.registry_http import HttpRegistry
            _DEFAULT = HttpRegistry(settings.registry_url, settings.registry_token)
        else:
            from workers.registry_table import TableRegistry
            _DEFAULT = TableRegistry(settings.var_dir / "registry.db")
    return _DEFAULT


def handle(variables: dict[str, Any], registry: Registry | None = None) -> dict[str, Any]:
    """Return ``registry_found`` and ``registry_profile``; a malformed number is a BPMN error
    ``INVALID_CITIZEN_ID`` (the process decides what to tell the citizen)."""
    number = str(variables.get("citizen_id", ""))
    try:
        citizen_id.parse(number)
    except citizen_id.InvalidCitizenId as err:
        raise BpmnError("INVALID_CITIZEN_ID", str(err), {"registry_found": False,
                                                         "registry_error": str(err)}) from None
    profile = (registry or default_registry()).lookup(number)
    if profile is None:
        return {"registry_found": False, "registry_profile": None}
    return {"registry_found": True, "registry_profile": profile.to_variables()}
