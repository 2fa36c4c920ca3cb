"""``create_app(deployment)``: the one assembly point, used by ``connector-host serve`` and the tests.

Resources open and close in ``cleanup_ctx`` generators in dependency order: the shared HTTP client
session, the embedded commercetools stand-in (when ``commercetools.embedded``), the commercetools client,
each provider's store (Custom Objects) and the authenticators, then each provider's
``startup()``/``shutdown()``, then the in-process reconciler (``reconciler.interval``).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from host import demo, openapi
from host import health as readiness
from host.auth import JwtAuth, OAuth2Auth, SessionAuth
from host.commercetools.client import CommercetoolsClient, CommercetoolsSettings, join_url
from host.commercetools.customers import CommercetoolsCustomers
from host.commercetools.store import CustomObjectStore, container_for
from host.commercetools.wallet import Wallet
from host.config import Deployment, ServerConfig
from host.errors import PluginError
from host.flows import reconcile
from host.handlers import enablers, giftcards, intents, operations, payments, plugin_routes, stored, webhooks
from host.instrument import CommercetoolsObserver, instrument_provider, observe
from host.keys import CT, DEPLOYMENT, EMULATOR_URL, HTTP, JWT, OAUTH, ROUTER, SESSION_AUTH
from host.middleware import MIDDLEWARES, server_header
from host.ports import EMULATOR, bind_error
from host.providers import Provider, ProviderContext
from host.routing import Bound, Router

logger = logging.getLogger(__name__)


def public_url(server: ServerConfig) -> str:
    if server.publicUrl:
        return server.publicUrl.rstrip("/")
    host = "127.0.0.1" if server.host in ("0.0.0.0", "::", "") else server.host  # noqa: S104 - a comparison
    return f"http://{host}:{server.port}"


def _bind(deployment: Deployment, base_url: str) -> dict[str, Bound[Provider]]:
    bound: dict[str, Bound[Provider]] = {}
    for inst in deployment.instances.values():
        cls = inst.entry.cls
        if inspect.isabstract(cls):
            missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
            raise PluginError(f"provider {inst.entry.name!r} of {inst.entry.plugin.distribution} "
                              f"{inst.entry.plugin.version} does not implement: {missing}")
        context = ProviderContext(instance_id=inst.id, payment_interface=inst.payment_interface,
                                  methods=inst.methods, capture_method=inst.capture_method,
                                  base_url=base_url, logger=logging.getLogger(f"plugins.{inst.id}"))
        provider = cls(inst.settings, context)
        instrument_provider(provider, inst.id)
        stored = inst.config.storedPaymentMethods
        wallet = Wallet(inst.payment_interface, stored.interfaceAccount) if stored.enabled else None
        bound[inst.id] = Bound(inst.id, inst.payment_interface, inst.methods, provider, inst.entry.name,
                               inst.entry.plugin.distribution, inst.entry.plugin.version,
                               inst.capture_method, inst.enabled, wallet)
    return bound


async def _http_ctx(app: web.Application) -> AsyncIterator[None]:
    connector = aiohttp.TCPConnector(limit=200, limit_per_host=100, keepalive_timeout=30)
    async with aiohttp.ClientSession(connector=connector) as session:
        app[HTTP] = session
        for bound in app[ROUTER].by_id.values():
            bound.provider.context.http = session
        yield


async def _emulator_ctx(app: web.Application) -> AsyncIterator[None]:
    from emulator import ClientCredentials, EmulatorConfig, create_emulator_app

    ct = app[DEPLOYMENT].config.commercetools
    pk = ct.projectKey
    config = EmulatorConfig(project_key=pk, issuer=ct.jwtIssuer, sqlite_path=ct.emulator.sqlitePath, clients=[
        ClientCredentials(ct.clientId, ct.clientSecret.get_secret_value(), [f"manage_project:{pk}"]),
        ClientCredentials("checkout", "checkout-secret", [f"manage_checkout_payment_intents:{pk}",
                                                          f"manage_checkout_transactions:{pk}"]),
    ])
    runner = web.AppRunner(create_emulator_app(config), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, ct.emulator.host, ct.emulator.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        error = bind_error(exc, EMULATOR, ct.emulator.host, ct.emulator.port, app[DEPLOYMENT].source)
        if error is None:
            raise
        raise error from None
    port = runner.addresses[0][1]
    app[EMULATOR_URL] = f"http://{ct.emulator.host}:{port}"
    logger.debug("embedded commercetools stand-in listening on %s", app[EMULATOR_URL])
    yield
    await runner.cleanup()


async def _commercetools_ctx(app: web.Application) -> AsyncIterator[None]:
    ct = app[DEPLOYMENT].config.commercetools
    if ct.embedded:
        url = app[EMULATOR_URL]
        auth_url = api_url = session_url = url
        jwks_url = join_url(url, ".well-known/jwks.json")
    else:
        auth_url, api_url, session_url, jwks_url = ct.authUrl, ct.apiUrl, ct.sessionUrl, ct.jwksUrl
    client = CommercetoolsClient(CommercetoolsSettings(
        project_key=ct.projectKey, client_id=ct.clientId, client_secret=ct.clientSecret.get_secret_value(),
        auth_url=auth_url, api_url=api_url, session_url=session_url, timeout=ct.timeout), app[HTTP],
        observer=CommercetoolsObserver())
    app[CT] = client
    customers = CommercetoolsCustomers(client)
    for bound in app[ROUTER].by_id.values():
        bound.provider.context.store = CustomObjectStore(client, container_for(bound.id))
        bound.provider.context.customers = customers
    app[SESSION_AUTH] = SessionAuth(client)
    app[OAUTH] = OAuth2Auth(client)
    app[JWT] = JwtAuth(app[HTTP], jwks_url, ct.jwtIssuer, ct.projectKey, timeout=ct.timeout)
    yield


async def _providers_ctx(app: web.Application) -> AsyncIterator[None]:
    started: list[Provider] = []
    try:
        for bound in app[ROUTER].enabled:
            await bound.provider.startup()
            started.append(bound.provider)
        yield
    finally:
        for provider in reversed(started):
            try:
                await provider.shutdown()
            except Exception:
                logger.exception("shutdown of %s failed", provider.context.instance_id)


async def _reconciler_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[DEPLOYMENT].config.reconciler
    async with reconcile.running(app[CT], app[ROUTER], interval=settings.interval, horizon=settings.horizon,
                                 batch=settings.batch):
        yield


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(deployment: Deployment) -> web.Application:
    """Build the application for a validated deployment (see ``host.config.load_config``)."""
    server = deployment.config.server
    app = web.Application(middlewares=(observe, *MIDDLEWARES), client_max_size=server.maxBodySize)
    app.on_response_prepare.append(server_header)
    app[DEPLOYMENT] = deployment
    bound = _bind(deployment, public_url(server))
    app[ROUTER] = Router.build(bound)
    app.cleanup_ctx.append(_http_ctx)
    if deployment.config.commercetools.embedded:
        app.cleanup_ctx.append(_emulator_ctx)
    app.cleanup_ctx.append(_commercetools_ctx)
    app.cleanup_ctx.append(_providers_ctx)
    app.cleanup_ctx.append(_reconciler_ctx)
    readiness.setup(app)   # after every other cleanup_ctx: ready once all of them started
    app.router.add_get("/health", health)
    payments.setup(app)
    stored.setup(app)
    intents.setup(app)
    operations.setup(app)
    giftcards.setup(app)
    webhooks.setup(app, app[ROUTER].enabled)
    plugin_routes.setup_public(app, app[ROUTER].enabled)
    enablers.setup(app, app[ROUTER].enabled)
    if deployment.config.commercetools.embedded:
        demo.setup(app, public_url(server))
    openapi.setup(app)   # routes added elsewhere are described with openapi.document(app, ...)
    instances = {b.id: b.payment_interface for b in app[ROUTER].enabled}
    deployment.plugins.notify_config_loaded(instances)
    return app
