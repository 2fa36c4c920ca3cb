"""The versioned update every emulated resource shares: ``POST /{projectKey}/{resources}/{id}`` with
``{"version", "actions"}``, applied to a copy, all or nothing, the version then one higher."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import concurrent_modification, invalid_input, not_found
from .fields import JsonObject, as_object, req_int, req_list, req_str

if TYPE_CHECKING:
    from .core import Emulator

Action = Callable[["Emulator", JsonObject, JsonObject], None]


def apply_actions(emu: Emulator, resource: JsonObject, actions: list[Any], table: Mapping[str, Action],
                  noun: str) -> None:
    """Apply update actions in order to ``resource`` (a copy); raise on the first bad one."""
    for value in actions:
        action = as_object(value, "actions")
        name = req_str(action, "action", "actions")
        apply = table.get(name)
        if apply is None:
            raise invalid_input(f"Unknown action '{name}' for {noun}.")
        apply(emu, resource, action)


def versioned_update(emu: Emulator, kind: str, resource_id: str, body: JsonObject, table: Mapping[str, Action],
                     noun: str, check: Callable[[JsonObject, JsonObject], None] | None = None) -> JsonObject:
    """Apply ``body`` to the stored ``kind`` ``resource_id``: 404 when there is none, 409 on another version,
    the stored one unchanged for no actions; ``check(updated, stored)`` may refuse the result."""
    stored = emu.store.get(kind, resource_id)
    if stored is None:
        raise not_found(resource_id)
    version = req_int(body, "version")
    actions = req_list(body, "actions")
    if version != stored["version"]:
        raise concurrent_modification(resource_id, version, stored["version"])
    if not actions:
        return stored
    resource = copy.deepcopy(stored)
    apply_actions(emu, resource, actions, table, noun)
    if check is not None:
        check(resource, stored)
    resource["version"] += 1
    resource["lastModifiedAt"] = emu.timestamp()
    emu.store.put(kind, resource_id, resource)
    return resource
