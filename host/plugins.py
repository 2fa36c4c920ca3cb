"""Discovery of provider plugins: the one typed facade over pluggy's plugin manager.

Discovery runs once, explicitly: the built-in plugins from ``BUILTINS``, then the ``connector_host``
entry-point group, then ``check_pending()``. ``CONNECTOR_HOST_BLOCK_PLUGINS`` (comma-separated plugin
names) blocks plugins by name, built-in or installed. No module outside this one touches ``pm.hook``.
A plugin that cannot be used is recorded as a ``BrokenPlugin`` and discovery goes on: one broken
installed distribution stops only the deployments that use it.
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


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin, or one provider of it, that cannot be used, and why. Discovery goes on without it.

    ``providers`` are the ``plugin:`` names it makes unusable; for a plugin that did not even load, its
    entry-point name, which by convention is its provider's. An instance of connector.yaml that names one of
    them stops start-up with ``problem``; otherwise ``check`` and ``serve`` warn and go on.
    """

    name: str
    distribution: str
    version: str
    problem: str
    providers: frozenset[str]

    @property
    def hint(self) -> str:
        return f"{BLOCK_ENV}={self.name} keeps the plugin from loading"


class Plugins:
    """The discovered plugins, the provider classes they registered, and the ones that are broken."""

    def __init__(self, pm: pluggy.PluginManager, plugins: Mapping[str, PluginInfo],
                 providers: Mapping[str, ProviderEntry], blocked: frozenset[str],
                 broken: Iterable[BrokenPlugin] = ()) -> None:
        self._pm = pm
        self.plugins = dict(plugins)
        self.providers = dict(providers)
        self.blocked = blocked
        self.broken = tuple(broken)

    @classmethod
    def discover(cls, *, blocked: Iterable[str] | None = None,
                 builtins: Iterable[tuple[str, str]] = BUILTINS, entry_points: bool = True,
                 extra: Iterable[tuple[str, ModuleType | object]] = ()) -> Plugins:
        """Find and register every plugin. ``blocked=None`` reads ``CONNECTOR_HOST_BLOCK_PLUGINS``.

        A plugin that cannot be imported, implements an unknown hook, fails in ``register_providers``,
        registers something that is not a provider, needs another host API, or takes a provider name that
        another plugin registers too is recorded in ``broken``, not raised: it matters only where
        connector.yaml uses it (``host.config`` then stops start-up with the reason).
        """
        if blocked is None:
            blocked = [b.strip() for b in os.environ.get(BLOCK_ENV, "").split(",") if b.strip()]
        blocked_set = frozenset(blocked)
        pm = pluggy.PluginManager("connector_host")
        pm.add_hookspecs(hookspecs)
        for name in blocked_set:
            pm.set_blocked(name)
        infos: dict[str, PluginInfo] = {}
        broken: list[BrokenPlugin] = []
        for name, module_name in builtins:
            if pm.is_blocked(name):
                continue
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                broken.append(BrokenPlugin(name, "connector-host", __version__,
                                           f"built-in plugin {name!r} cannot be imported: {exc}", frozenset({name})))
                continue
            pm.register(module, name=name)
            infos[name] = PluginInfo(name, "connector-host", __version__, builtin=True)
        for name, obj in extra:
            pm.register(obj, name=name)
            infos[name] = PluginInfo(name, "(in-process)", __version__, builtin=False)
        if entry_points:
            cls._load_entry_points(pm, infos, broken)
        cls._check_hooks(pm, infos, broken)
        providers = cls._collect(pm, infos, broken)
        return cls(pm, infos, providers, blocked_set, broken)

    @staticmethod
    def _load_entry_points(pm: pluggy.PluginManager, infos: dict[str, PluginInfo], broken: list[BrokenPlugin]) -> None:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist_name = ep.dist.name if ep.dist else "unknown"
            dist_version = ep.dist.version if ep.dist else "0"
            if pm.is_blocked(ep.name) or pm.get_plugin(ep.name) is not None:
                if ep.name in infos and infos[ep.name].builtin and not pm.is_blocked(ep.name):
                    broken.append(BrokenPlugin(
                        ep.name, dist_name, dist_version, f"plugin name {ep.name!r} of distribution {dist_name} is "
                        f"taken by the built-in plugin; rename its entry point", frozenset()))
                continue
            try:
                module = ep.load()
            except Exception as exc:  # a broken third-party package must not crash with a traceback
                broken.append(BrokenPlugin(ep.name, dist_name, dist_version,
                                           f"plugin {ep.name!r} from {dist_name} {dist_version} failed to load: "
                                           f"{type(exc).__name__}: {exc}", frozenset({ep.name})))
                continue
            pm.register(module, name=ep.name)
            infos[ep.name] = PluginInfo(ep.name, dist_name, dist_version, builtin=False)

    @staticmethod
    def _check_hooks(pm: pluggy.PluginManager, infos: dict[str, PluginInfo], broken: list[BrokenPlugin]) -> None:
        """``check_pending()``, one offending plugin at a time: each is unregistered and recorded."""
        while True:
            try:
                pm.check_pending()
                return
            except pluggy.PluginValidationError as exc:
                name = pm.get_name(exc.plugin) or repr(exc.plugin)
                pm.unregister(exc.plugin)
                info = infos.pop(name, None) or PluginInfo(name, "unknown", "0", False)
                broken.append(BrokenPlugin(name, info.distribution, info.version,
                                           f"plugin {name!r} of {info.distribution} {info.version} implements an "
                                           f"unknown hook: {exc}", frozenset({name})))

    @staticmethod
    def _collect(pm: pluggy.PluginManager, infos: Mapping[str, PluginInfo],
                 broken: list[BrokenPlugin]) -> dict[str, ProviderEntry]:
        claims: dict[str, list[ProviderEntry]] = {}
        for impl in pm.hook.register_providers.get_hookimpls():
            registration = _Registration(infos.get(impl.plugin_name)
                                         or PluginInfo(impl.plugin_name, "unknown", "0", False))
            try:
                impl.function(registry=Registry(registration.add, impl.plugin_name))
            except Exception as exc:  # a plugin's bug is its own problem, reported like any other
                broken.append(registration.failed(exc))
                continue
            broken.extend(registration.problems)
            for entry in registration.entries:
                claims.setdefault(entry.name, []).append(entry)
        providers: dict[str, ProviderEntry] = {}
        for name, entries in claims.items():
            if len(entries) == 1:
                providers[name] = entries[0]
                continue
            first, *others = (e.plugin for e in entries)
            for other in others:
                broken.append(BrokenPlugin(other.name, other.distribution, other.version,
                                           f"provider name {name!r} is registered twice: by {first.distribution} "
                                           f"(plugin {first.name}) and by {other.distribution} (plugin {other.name})",
                                           frozenset({name})))
        return providers

    def broken_provider(self, name: str) -> BrokenPlugin | None:
        """Why the provider ``name`` (a ``plugin:`` value) cannot be used, if a broken plugin is the reason."""
        return next((b for b in self.broken if name in b.providers), None)

    def notify_config_loaded(self, instances: dict[str, str]) -> None:
        self._pm.hook.connector_config_loaded(instances=instances)

    def describe_available(self) -> str:
        """``sandbox (connector-host 0.1.0), stripe (...)`` for error messages."""
        return ", ".join(f"{e.name} ({e.plugin.distribution} {e.plugin.version})"
                         for e in sorted(self.providers.values(), key=lambda e: e.name)) or "none"


class _Registration:
    """What one plugin's ``register_providers`` call registered, and what it got wrong."""

    def __init__(self, info: PluginInfo) -> None:
        self.info = info
        self.where = f"{info.distribution} {info.version}"
        self.entries: list[ProviderEntry] = []
        self.problems: list[BrokenPlugin] = []

    def add(self, name: str, provider: ProviderClass, _plugin: str) -> None:
        problem = self._problem(name, provider)
        if problem is None:
            self.entries.append(ProviderEntry(name, provider, self.info))
        else:
            self.problems.append(self._broken(problem, {name}))

    def failed(self, exc: Exception) -> BrokenPlugin:
        names = {self.info.name, *(e.name for e in self.entries), *(n for b in self.problems for n in b.providers)}
        return self._broken(f"register_providers of {self.where} (plugin {self.info.name}) failed: "
                            f"{type(exc).__name__}: {exc}", names)

    def _broken(self, problem: str, names: set[str]) -> BrokenPlugin:
        return BrokenPlugin(self.info.name, self.info.distribution, self.info.version, problem, frozenset(names))

    def _problem(self, name: str, provider: ProviderClass) -> str | None:
        if not (isinstance(provider, type) and issubclass(provider, PaymentProvider | GiftCardProvider)):
            return f"{self.where} registered {name!r} which is not a PaymentProvider or GiftCardProvider subclass"
        try:
            spec = SpecifierSet(provider.host_api)
        except InvalidSpecifier:
            return f"{self.where}: provider {name!r} declares an invalid host_api {provider.host_api!r}"
        if Version(HOST_API_VERSION) not in spec:
            return (f"provider {name!r} of {self.where} supports host API {provider.host_api}, but this "
                    f"connector-host {__version__} provides host API {HOST_API_VERSION}; install a matching "
                    f"version of {self.info.distribution}")
        return None
