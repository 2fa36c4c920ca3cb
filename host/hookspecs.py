"""Hook specifications of connector-host (the pluggy project name is ``connector_host``).

Every hook here is documented in its docstring and has a test named after it (``tests/host/test_hookspecs.py``
checks both). Implementations use ``host.hookimpl``.
"""

from __future__ import annotations

import pluggy

from host.providers import Registry

hookspec = pluggy.HookspecMarker("connector_host")
hookimpl = pluggy.HookimplMarker("connector_host")


@hookspec
def register_providers(registry: Registry) -> None:
    """Register the provider classes a plugin contributes.

    Called once at start-up, during discovery, before connector.yaml's instances are created. Call
    ``registry.register(name, ProviderClass)`` for each class; ``name`` is what an operator writes as
    ``plugin:`` in connector.yaml. A name registered twice is unusable: start-up stops, naming both
    distributions, where connector.yaml uses it, and warns otherwise.

    :param registry: the ``host.Registry`` to add provider classes to.
    :return: nothing; the registry collects the classes.
    """


@hookspec
def connector_config_loaded(instances: dict[str, str]) -> None:
    """Observe the deployment once it is validated (for plugins that log, warm caches or audit).

    Called once by ``create_app`` after connector.yaml passed both validation phases and before the server
    listens. ``instances`` maps each enabled instance id to its ``paymentInterface``. It is a plain
    function (``connector-host serve`` calls it before the event loop starts; tests inside a running
    loop), so it must not block and must not await.

    :param instances: enabled instance id -> paymentInterface.
    :return: nothing.
    """
