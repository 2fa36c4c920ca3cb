"""Every object shared through the aiohttp application, under a typed ``web.AppKey``."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from host.auth import JwtAuth, OAuth2Auth, SessionAuth
from host.commercetools.client import CommercetoolsClient
from host.config import Deployment
from host.enablers import Bundle
from host.routing import Router

DEPLOYMENT = web.AppKey("deployment", Deployment)
ROUTER = web.AppKey("router", Router)
HTTP = web.AppKey("http", aiohttp.ClientSession)
CT = web.AppKey("commercetools", CommercetoolsClient)
SESSION_AUTH = web.AppKey("session_auth", SessionAuth)
OAUTH = web.AppKey("oauth2_auth", OAuth2Auth)
JWT = web.AppKey("jwt_auth", JwtAuth)
EMULATOR_URL = web.AppKey("emulator_url", str)
ENABLERS = web.AppKey("enablers", dict[str, Bundle])
DEMO_BASE_URL = web.AppKey("demo_base_url", str)
#: operations of routes added outside the standard set, by (METHOD, path): ``host.openapi.document``
OPENAPI_EXTRA = web.AppKey[dict[tuple[str, str], dict[str, Any]]]("openapi_extra")
#: ``/openapi.json``, built on first request
OPENAPI_DOC = web.AppKey[dict[str, Any]]("openapi_doc")
