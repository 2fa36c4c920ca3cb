"""Discovery of provider plugins: the one typed facade over pluggy's plugin manager.

Discovery runs once, explicitly: the built-in plugins from ``BUILTINS``, then the ``connector_host``
entry-point group, then ``check_pending()``. ``CONNECTOR_HOST_BLOCK_PLUGINS`` (comma-separated plugin
names) blocks plugins by name, built-in or installed. No module outside this one touches ``pm.hook``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from host import hookspecs
from host._version import HOST_API_VERSION, __version__
from host.errors import PluginError
from host.providers import GiftCardProvider, PaymentProvider, ProviderClass, Registry

logger = logging.getLogger(__name__)

BLOCK_ENV = "CONNECTOR_HOST_BLOCK_PLUGINS"
ENTRY_POINT_GROUP = "connector_host"
#: Built-in plugins: (plugin name, module). Registered exactly like third-party ones.
BUILTINS: tuple[tuple[str, str], ...] = (
    ("sandbox", "plugins.sandbox"),
    ("sandbox_giftcard", "plugins.sandbox_giftcard"),
    ("stripe", "plugins.stripe"),
)


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str
    version: str
    builtin: bool


@dataclass(frozen=True)
class ProviderEntry:
    """A registered provider class and where it came from."""

    name: str
    cls: ProviderClass
    plugin: PluginInfo


class Plugins:
    """The discovered plugins and the provider classes they registered."""

    def __init__(self, pm: pluggy.PluginManager, plugins: Mapping[str, PluginInfo],
                 providers: Mapping[str, ProviderEntry], blocked: frozenset[str]) -> None:
        self._pm = pm
        self.plugins = dict(plugins)
        self.providers = dict(providers)
        self.blocked = blocked

    @classmethod
    def discover(cls, *, blocked: Iterable[str] | None = None,
                 builtins: Iterable[tuple[str, str]] = BUILTINS, entry_points: bool = True,
                 extra: Iterable[tuple[str, ModuleType | object]] = ()) -> Plugins:
        """Find and register every plugin. ``blocked=None`` reads ``CONNECTOR_HOST_BLOCK_PLUGINS``."""
        if blocked is None:
            blocked = [b.strip() for b in os.environ.get(BLOCK_ENV, "").split(",") if b.strip()]
        blocked_set = frozenset(blocked)
        pm = pluggy.PluginManager("connector_host")
        pm.add_hookspecs(hookspecs)
        for name in blocked_set:
            pm.set_blocked(name)
        infos: dict[str, PluginInfo] = {}
        for name, module_name in builtins:
            if pm.is_blocked(name):
                continue
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise PluginError(f"built-in plugin {name!r} cannot be imported: {exc}") from exc
            pm.register(module, name=name)
            infos[name] = PluginInfo(name, "connector-host", __version__, builtin=True)
        for name, obj in extra:
            pm.register(obj, name=name)
            infos[name] = PluginInfo(name, "(in-process)", __version__, builtin=False)
        if entry_points:
            cls._load_entry_points(pm, infos)
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {exc.plugin!r} implements an unknown hook: {exc}") from exc
        providers = cls._collect(pm, infos)
        return cls(pm, infos, providers, blocked_set)

    @staticmethod
    def _load_entry_points(pm: pluggy.PluginManager, infos: dict[str, PluginInfo]) -> None:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if pm.is_blocked(ep.name) or pm.get_plugin(ep.name) is not None:
                if ep.name in infos and infos[ep.name].builtin and not pm.is_blocked(ep.name):
                    dist = ep.dist.name if ep.dist else "?"
                    raise PluginError(f"plugin name {ep.name!r} of distribution {dist} is taken by the "
                                      f"built-in plugin; rename its entry point")
                continue
            dist_name = ep.dist.name if ep.dist else "unknown"
            dist_version = ep.dist.version if ep.dist else "0"
            try:
                module = ep.load()
            except Exception as exc:  # a broken third-party package must not crash with a traceback
                raise PluginError(f"plugin {ep.name!r} from {dist_name} {dist_version} failed to load: "
                                  f"{type(exc).__name__}: {exc}") from exc
            pm.register(module, name=ep.name)
            infos[ep.name] = PluginInfo(ep.name, dist_name, dist_version, builtin=False)

    @staticmethod
    def _collect(pm: pluggy.PluginManager, infos: Mapping[str, PluginInfo]) -> dict[str, ProviderEntry]:
        providers: dict[str, ProviderEntry] = {}
        host_api = Version(HOST_API_VERSION)
        for impl in pm.hook.register_providers.get_hookimpls():
            info = infos.get(impl.plugin_name) or PluginInfo(impl.plugin_name, "unknown", "0", False)

            def add(name: str, provider: ProviderClass, _plugin: str, info: PluginInfo = info) -> None:
                where = f"{info.distribution} {info.version}"
                if not (isinstance(provider, type) and issubclass(provider, PaymentProvider | GiftCardProvider)):
                    raise PluginError(f"{where} registered {name!r} which is not a PaymentProvider or "
                                      f"GiftCardProvider subclass")
                if name in providers:
                    other = providers[name].plugin
                    raise PluginError(f"provider name {name!r} is registered twice: by {other.distribution} "
                                      f"(plugin {other.name}) and by {info.distribution} (plugin {info.name})")
                try:
                    spec = SpecifierSet(provider.host_api)
                except InvalidSpecifier as exc:
                    raise PluginError(f"{where}: provider {name!r} declares an invalid host_api "
                                      f"{provider.host_api!r}") from exc
                if host_api not in spec:
                    raise PluginError(f"provider {name!r} of {where} supports host API {provider.host_api}, "
                                      f"but this connector-host {__version__} provides host API "
                                      f"{HOST_API_VERSION}; install a matching version of {info.distribution}")
                providers[name] = ProviderEntry(name, provider, info)

            impl.function(registry=Registry(add, impl.plugin_name))
        return providers

    def notify_config_loaded(self, instances: dict[str, str]) -> None:
        self._pm.hook.connector_config_loaded(instances=instances)

    def describe_available(self) -> str:
        """``sandbox (connector-host 0.1.0), stripe (...)`` for error messages."""
        return ", ".join(f"{e.name} ({e.plugin.distribution} {e.plugin.version})"
                         for e in sorted(self.providers.values(), key=lambda e: e.name)) or "none"
