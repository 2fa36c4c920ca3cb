"""``GET /ready``: readiness, as opposed to ``GET /health`` (liveness, always cheap).

Ready means this process can serve payments now: every enabled instance's provider has started with its
configuration, commercetools answers an authenticated read, and the process is not shutting down.
Otherwise 503 with the reasons in the body. PSPs are not part of it: one PSP down must not take every
replica out of the load balancer (``/operations/status`` reports them). A successful commercetools check
is reused for a few seconds, so probes from several load balancers cost one call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from host.errors import ApiError
from host.jsonio import json_response
from host.keys import CT, DEPLOYMENT, ROUTER

#: seconds a successful commercetools check stands for
CT_CHECK_TTL = 2.0


@dataclass
class Readiness:
    started: bool = False
    stopping: bool = False
    ct_ok_until: float = 0.0


READINESS = web.AppKey("readiness", Readiness)


async def _check_commercetools(app: web.Application, state: Readiness) -> dict[str, Any]:
    if time.monotonic() < state.ct_ok_until:
        return {"status": "up"}
    timeout = app[DEPLOYMENT].config.server.statusTimeout
    try:
        async with asyncio.timeout(timeout):
            await app[CT].request("GET", "payments", params={"limit": "1"})
    except TimeoutError:
        return {"status": "down", "message": f"no answer within {timeout:g} s"}
    except ApiError as exc:
        return {"status": "down", "message": f"{exc.status} {exc.message}"}
    except (aiohttp.ClientError, OSError) as exc:    # e.g. the token request, which the client passes on
        return {"status": "down", "message": f"{type(exc).__name__}: {exc}"}
    state.ct_ok_until = time.monotonic() + CT_CHECK_TTL
    return {"status": "up"}


async def ready(request: web.Request) -> web.Response:
    app = request.app
    state = app[READINESS]
    reasons: list[str] = []
    if state.stopping:
        reasons.append("shutting down")
    loaded = "loaded" if state.started else "starting"
    instances = {b.id: loaded if b.enabled else "disabled" for b in app[ROUTER].by_id.values()}
    if not state.started:
        reasons.append("instances are still starting")
    ct = await _check_commercetools(app, state)
    if ct["status"] != "up":
        reasons.append(f"commercetools is not reachable: {ct['message']}")
    body = {"status": "not ready" if reasons else "ready", "reasons": reasons, "commercetools": ct,
            "instances": instances}
    return json_response(body, status=503 if reasons else 200)


async def _readiness_ctx(app: web.Application) -> AsyncIterator[None]:
    # appended after the providers' context: by now every provider's startup() has returned
    app[READINESS].started = True
    yield


async def _stopping(app: web.Application) -> None:
    app[READINESS].stopping = True


def setup(app: web.Application) -> None:
    """Call after every other ``cleanup_ctx`` is registered."""
    app[READINESS] = Readiness()
    app.cleanup_ctx.append(_readiness_ctx)
    app.on_shutdown.append(_stopping)
    app.router.add_get("/ready", ready)
