"""connector.yaml: loading, ``${VAR}`` interpolation, and two-phase validation.

Phase one checks the host's own shape (``ConnectorConfig``); phase two, after plugin discovery, checks each
instance against its provider (``methods`` a subset of what it can serve, ``settings`` against its own
``Settings`` model). Every error is a ``ConfigError`` naming file, line, path and, where there is one,
the fix. Loading is synchronous and happens before the event loop starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from host.errors import ConfigError
from host.models import CaptureMethod
from host.plugins import Plugins, ProviderEntry
from host.providers import ProviderSettings

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
INSTANCE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _env(name: str, default: str) -> Any:
    return Field(default_factory=lambda: os.environ.get(name, default))


class EmulatorSettings(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=8081, ge=0, le=65535)
    sqlitePath: str | None = None


class CommercetoolsConfig(_Model):
    """Where commercetools is. Defaults come from the official templates' ``CTP_*`` variables."""

    embedded: bool = False
    projectKey: str = _env("CTP_PROJECT_KEY", "payment-integration")
    clientId: str = _env("CTP_CLIENT_ID", "xxx")
    clientSecret: SecretStr = Field(default_factory=lambda: SecretStr(os.environ.get("CTP_CLIENT_SECRET", "xxx")))
    authUrl: str = _env("CTP_AUTH_URL", "https://auth.europe-west1.gcp.commercetools.com")
    apiUrl: str = _env("CTP_API_URL", "https://api.europe-west1.gcp.commercetools.com")
    sessionUrl: str = _env("CTP_SESSION_URL", "https://session.europe-west1.gcp.commercetools.com/")
    jwksUrl: str = _env("CTP_JWKS_URL", "https://mc-api.europe-west1.gcp.commercetools.com/.well-known/jwks.json")
    jwtIssuer: str = _env("CTP_JWT_ISSUER", "https://mc-api.europe-west1.gcp.commercetools.com")
    emulator: EmulatorSettings = Field(default_factory=EmulatorSettings)
    timeout: float = Field(default=10.0, gt=0, description="total seconds per commercetools operation")


class ServerConfig(_Model):
    host: str = "0.0.0.0"  # noqa: S104 - a service listens on all interfaces, as the templates do
    port: int = Field(default=8080, ge=0, le=65535)
    publicUrl: str | None = None   # how PSPs and browsers reach us; default http://127.0.0.1:{port}
    statusTimeout: float = Field(default_factory=lambda: float(os.environ.get("HEALTH_CHECK_TIMEOUT", "5000")) / 1000,
                                 gt=0)
    maxBodySize: int = Field(default=256 * 1024, gt=0)
    logFormat: str = "json"
    # slow and greedy clients (host.server): a request head must arrive within headerTimeout of its first
    # byte (of the connection, for the first request), a body within bodyTimeout; an idle keep-alive
    # connection is closed after keepAliveTimeout; beyond maxConnections open connections a new one gets 503
    headerTimeout: float = Field(default=10.0, gt=0)
    bodyTimeout: float = Field(default=30.0, gt=0)
    keepAliveTimeout: float = Field(default=75.0, gt=0)
    maxConnections: int = Field(default=1000, gt=0)
    maxHeaderSize: int = Field(default=8190, ge=1024, le=65536)
    eventLoop: Literal["auto", "uvloop", "asyncio"] = "auto"   # auto: uvloop where it is installed
    workers: int = Field(default=0, ge=0)              # 0: one per usable core (docs/deploy.md)
    shutdownTimeout: float = Field(default=25.0, gt=0)  # seconds in-flight requests get after SIGTERM
    metricsPort: int | None = Field(default=None, ge=0, le=65535)  # Prometheus /metrics; None: off
    metricsHost: str | None = None                     # default: ``host``


class ReconcilerConfig(_Model):
    """Settling attempts whose outcome is unknown (``host.flows.reconcile``)."""

    interval: float = Field(default=60.0, ge=0, description="seconds between in-process passes; 0: none")
    horizon: float = Field(default=300.0, gt=0, description="seconds an attempt may stay undecided")
    batch: int = Field(default=100, gt=0, le=500, description="Payments looked at per pass")


class TracingConfig(_Model):
    """OpenTelemetry traces (``pip install connector-host[otel]``); endpoint and headers come from the
    standard ``OTEL_EXPORTER_OTLP_*`` variables."""

    exporter: Literal["none", "otlp", "console"] = _env("OTEL_TRACES_EXPORTER", "none")
    serviceName: str = _env("OTEL_SERVICE_NAME", "connector-host")
    sampleRatio: float = Field(default=1.0, ge=0, le=1)


class StoredMethodsConfig(_Model):
    """An instance's stored payment methods (docs/configuration.md): ``storedPaymentMethods: true`` is short
    for ``{enabled: true}``."""

    enabled: bool = False
    interfaceAccount: str | None = Field(None, min_length=1, description="written on the stored methods and "
                                         "required when looking them up (the templates' "
                                         "STORED_PAYMENT_METHODS_INTERFACE_ACCOUNT)")


class InstanceConfig(_Model):
    plugin: str
    paymentInterface: str = Field(min_length=1)
    methods: list[str] | None = None
    captureMethod: CaptureMethod | None = None   # default: manual when the provider supports it
    enabled: bool = True
    storedPaymentMethods: StoredMethodsConfig = Field(default_factory=StoredMethodsConfig)
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("storedPaymentMethods", mode="before")
    @classmethod
    def _stored_shorthand(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value


class ConnectorConfig(_Model):
    commercetools: CommercetoolsConfig = Field(default_factory=CommercetoolsConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    reconciler: ReconcilerConfig = Field(default_factory=ReconcilerConfig)
    tracing: TracingConfig = Field(default_factory=TracingConfig)
    instances: dict[str, InstanceConfig]

    @field_validator("instances")
    @classmethod
    def _ids(cls, value: dict[str, InstanceConfig]) -> dict[str, InstanceConfig]:
        for key in value:
            if not INSTANCE_ID.fullmatch(key):
                raise ValueError(f"instance id {key!r} must be lower-case letters, digits, '-' or '_'")
        return value


@dataclass(frozen=True)
class Instance:
    """One validated connector.yaml instance, bound to its provider class."""

    id: str
    config: InstanceConfig
    entry: ProviderEntry
    settings: ProviderSettings
    methods: frozenset[str]
    capture_method: CaptureMethod

    @property
    def payment_interface(self) -> str:
        return self.config.paymentInterface

    @property
    def enabled(self) -> bool:
        return self.config.enabled


@dataclass(frozen=True)
class Deployment:
    """The validated deployment: what ``create_app`` receives."""

    config: ConnectorConfig
    instances: Mapping[str, Instance]
    plugins: Plugins
    source: str


# -- loading --------------------------------------------------------------------------------------

def _interpolate(node: Any, file: str, path: str, line: int | None) -> Any:
    if isinstance(node, CommentedMap):
        for key in list(node.keys()):
            key_line = node.lc.key(key)[0] + 1 if key in node.lc.data else line
            node[key] = _interpolate(node[key], file, f"{path}.{key}" if path else str(key), key_line)
        return node
    if isinstance(node, CommentedSeq):
        for i in range(len(node)):
            item_line = node.lc.item(i)[0] + 1 if i in node.lc.data else line
            node[i] = _interpolate(node[i], file, f"{path}[{i}]", item_line)
        return node
    if isinstance(node, str) and "${" in node:
        def sub(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            value = os.environ.get(name)
            if value is None or (value == "" and default is not None):
                if default is None:
                    raise ConfigError(f"environment variable {name} is not set", file=file, line=line,
                                      path=path, fix=f"export {name}=... or write ${{{name}:-default}}")
                return default
            return value
        whole = _VAR.fullmatch(node)
        result = _VAR.sub(sub, node)
        # a whole-value reference to a number or boolean keeps its YAML type (port: ${PORT:-8080})
        if whole and result.strip() and not node.startswith("'"):
            loaded = YAML(typ="safe").load(result)
            if isinstance(loaded, bool | int | float):
                return loaded
        return result
    return node


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _line_of(tree: Any, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest node of ``loc`` that exists in the YAML tree."""
    node, line = tree, None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _first_error(exc: ValidationError, tree: Any, file: str, prefix: tuple[Any, ...] = ()) -> ConfigError:
    err = exc.errors()[0]
    loc = prefix + tuple(err["loc"])
    message = err["msg"]
    if err["type"] == "missing":
        message = "field required"
    elif err["type"] == "extra_forbidden":
        message = "unknown key"
    fix = None
    if err["type"] == "extra_forbidden":
        fix = "remove it or check its spelling"
    return ConfigError(message, file=file, line=_line_of(tree, loc),
                       path=".".join(str(p) for p in loc), fix=fix)


def read_yaml(path: Path) -> tuple[Any, str]:
    file = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} not found",
                          fix="pass --config PATH or set CONNECTOR_CONFIG") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ConfigError(f"invalid YAML: {exc.problem}", file=file,
                          line=mark.line + 1 if mark else None) from None
    if not isinstance(tree, CommentedMap):
        raise ConfigError("the file must be a mapping with an 'instances' key", file=file, line=1)
    return _interpolate(tree, file, "", None), file


def load_config(path: str | Path, plugins: Plugins | None = None) -> Deployment:
    """Read, interpolate and validate connector.yaml; raise ``ConfigError`` with file:line on a problem."""
    path = Path(path)
    tree, file = read_yaml(path)
    try:
        config = ConnectorConfig.model_validate(_plain(tree))
    except ValidationError as exc:
        raise _first_error(exc, tree, file) from None
    plugins = plugins or Plugins.discover()
    return Deployment(config, _bind_instances(config, tree, file, plugins), plugins, str(path))


def _bind_instances(config: ConnectorConfig, tree: Any, file: str, plugins: Plugins) -> dict[str, Instance]:
    instances: dict[str, Instance] = {}
    seen: dict[str, str] = {}
    for iid, inst in config.instances.items():
        base = ("instances", iid)
        if inst.plugin not in plugins.providers:
            broken = plugins.broken_provider(inst.plugin)
            if broken is not None:
                raise ConfigError(broken.problem, file=file, line=_line_of(tree, (*base, "plugin")),
                                  path=f"instances.{iid}.plugin",
                                  fix=f"fix or reinstall {broken.distribution}, or remove this instance; {broken.hint}")
            blocked = f"; {inst.plugin!r} is blocked by CONNECTOR_HOST_BLOCK_PLUGINS" \
                if inst.plugin in plugins.blocked else ""
            raise ConfigError(f"unknown plugin {inst.plugin!r}{blocked}", file=file,
                              line=_line_of(tree, (*base, "plugin")), path=f"instances.{iid}.plugin",
                              fix=f"available: {plugins.describe_available()}")
        if inst.paymentInterface in seen:
            raise ConfigError(f"paymentInterface {inst.paymentInterface!r} is already used by instance "
                              f"{seen[inst.paymentInterface]!r}", file=file,
                              line=_line_of(tree, (*base, "paymentInterface")),
                              path=f"instances.{iid}.paymentInterface",
                              fix="each instance needs its own paymentInterface")
        seen[inst.paymentInterface] = iid
        entry = plugins.providers[inst.plugin]
        caps = entry.cls.capabilities
        methods = frozenset(inst.methods) if inst.methods is not None else caps.methods
        unknown = sorted(methods - caps.methods)
        if unknown:
            raise ConfigError(f"plugin {inst.plugin!r} cannot serve method(s) {', '.join(unknown)}", file=file,
                              line=_line_of(tree, (*base, "methods")), path=f"instances.{iid}.methods",
                              fix=f"it serves: {', '.join(sorted(caps.methods))}")
        supported = sorted(m.value for m in caps.capture_methods)
        capture = inst.captureMethod or (CaptureMethod.MANUAL if CaptureMethod.MANUAL in caps.capture_methods
                                         else CaptureMethod(supported[0]))
        if capture not in caps.capture_methods:
            raise ConfigError(f"plugin {inst.plugin!r} does not support captureMethod {capture.value}",
                              file=file, line=_line_of(tree, (*base, "captureMethod")),
                              path=f"instances.{iid}.captureMethod", fix=f"supported: {', '.join(supported)}")
        if inst.storedPaymentMethods.enabled and not (entry.cls.kind == "payment" and caps.stored_payment_methods):
            raise ConfigError(f"plugin {inst.plugin!r} cannot keep stored payment methods", file=file,
                              line=_line_of(tree, (*base, "storedPaymentMethods")),
                              path=f"instances.{iid}.storedPaymentMethods",
                              fix="remove storedPaymentMethods, or use a plugin that supports them")
        try:
            settings = entry.cls.Settings.model_validate(inst.settings)
        except ValidationError as exc:
            raise _first_error(exc, tree, file, (*base, "settings")) from None
        instances[iid] = Instance(iid, inst, entry, settings, methods, capture)
    return instances


def default_config_path() -> Path:
    return Path(os.environ.get("CONNECTOR_CONFIG") or "connector.yaml")
