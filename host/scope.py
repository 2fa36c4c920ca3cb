"""What the request being served is about: the instance routing chose and the PSP operation it ran.

The request middleware (``host.instrument``) opens a scope per request; routing and the PSP call wrapper
fill it in; metrics and traces label the request with it when it ends. Outside a request (a background
task, the reconciler) there is no scope and the ``note_*`` calls do nothing. This module imports nothing
heavy, so routing can use it.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class RequestScope:
    instance_id: str = ""
    operation: str = ""


current: ContextVar[RequestScope | None] = ContextVar("connector_host_request_scope", default=None)


def note_instance(instance_id: str) -> None:
    """Record the instance serving the current request (the last one routed to wins)."""
    scope = current.get()
    if scope is not None:
        scope.instance_id = instance_id


def note_operation(operation: str) -> None:
    """Record the PSP operation of the current request (the first one wins: a reverse stays a reverse)."""
    scope = current.get()
    if scope is not None and not scope.operation:
        scope.operation = operation
