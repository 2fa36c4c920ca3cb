"""``GET /enablers/{instance}/{name}``: each instance's enabler files (``host.enablers``), no auth.

Bundles are built once, when the application is created, from what each enabled instance's provider
returns from ``enabler()``. Answers carry an ETag (``If-None-Match`` → 304), ``Cache-Control``
(``immutable`` for content-hashed names), ``nosniff`` and ``Cross-Origin-Resource-Policy: cross-origin``;
the CORS middleware adds ``Access-Control-Allow-Origin: *``, on errors too, so Checkout's page, on another
origin, can load the ES module. An unknown instance or file is the contract's 404 envelope.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from host.enablers import MODULE, SCRIPT, build
from host.errors import PluginError, ResourceNotFoundError
from host.keys import ENABLERS
from host.providers import Provider
from host.routing import Bound

_SECURITY = {"X-Content-Type-Options": "nosniff", "Cross-Origin-Resource-Policy": "cross-origin"}


async def enabler_file(request: web.Request) -> web.StreamResponse:
    instance, name = request.match_info["instance"], request.match_info["name"]
    bundle = request.app[ENABLERS].get(instance)
    asset = bundle.files.get(name) if bundle else None
    if bundle is None or asset is None:
        what = f"file {name!r}" if bundle else "enabler"
        raise ResourceNotFoundError(f"The instance '{instance}' has no {what}.")
    headers = {"ETag": asset.etag, "Cache-Control": asset.cache_control, **_SECURITY}
    if asset.etag in (t.strip() for t in request.headers.get("If-None-Match", "").split(",")):
        return web.Response(status=304, headers=headers)
    return web.Response(body=asset.body, headers={"Content-Type": asset.content_type, **headers})


def urls(app: web.Application, bound: Bound[Provider]) -> dict[str, Any] | None:
    """Where Checkout loads ``bound``'s enabler from, for ``/operations/payment-components``."""
    bundle = app[ENABLERS].get(bound.id)
    if bundle is None:
        return None
    base = f"{bound.provider.context.base_url}/enablers/{bound.id}"
    return {"instance": bound.id, "paymentInterface": bound.payment_interface, "url": f"{base}/{MODULE}",
            "umdUrl": f"{base}/{SCRIPT}", "versionedUrl": f"{base}/{bundle.module}",
            "versionedUmdUrl": f"{base}/{bundle.script}"}


def setup(app: web.Application, instances: list[Bound[Provider]]) -> None:
    bundles = {}
    for bound in instances:
        assets = bound.provider.enabler()
        if assets is None:
            continue
        try:
            bundles[bound.id] = build(assets)
        except (OSError, ValueError) as exc:
            raise PluginError(f"the enabler of instance {bound.id!r} ({bound.distribution} {bound.version}) "
                              f"cannot be served: {exc}") from exc
    app[ENABLERS] = bundles
    app.router.add_get("/enablers/{instance}/{name}", enabler_file)
