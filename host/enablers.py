"""Enablers: the browser side a provider ships, bundled once at start-up and served per instance.

A provider returns ``EnablerAssets`` from ``enabler()``. ``sources`` are plain script bodies (no
``import``/``export``) that together define a class ``Enabler``; the host concatenates them and builds
the two files commercetools Checkout loads, the way the official templates' vite builds do:

* ``connector-enabler.es.js``: an ES module, ``export { Enabler }``;
* ``connector-enabler.umd.js``: a classic script that sets ``globalThis.Connector = { Enabler }``.

Each also exists under a content-hashed name (``connector-enabler.<hash>.es.js``) that never changes
meaning, so it is served ``immutable``; the plain names are revalidated by ``ETag``. The files of
``files`` (a directory: CSS, images) are served as they are, under their own names. Nothing is read from
disk after start-up and a request can only name a file of this table, so there is no path to traverse.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable

MODULE = "connector-enabler.es.js"
SCRIPT = "connector-enabler.umd.js"
#: Browsers cache the plain names but ask again (ETag); hashed names are cached for a year.
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".json": "application/json",
          ".map": "application/json", ".svg": "image/svg+xml", ".html": "text/html"}
_TEXT = ("text/", "application/json", "image/svg+xml")


@dataclass(frozen=True)
class EnablerAssets:
    """The browser files of a provider (``Provider.enabler()``).

    ``sources``: script bodies, concatenated in order, that define ``class Enabler`` (and whatever it
    needs) without ``import`` or ``export``; they run in strict mode inside one function scope, so their
    names never leak into the page. ``files``: an optional directory whose files are served as they are.
    Use ``importlib.resources.files(__package__) / "enabler"`` so the files travel inside the wheel.
    """

    sources: Sequence[Traversable]
    files: Traversable | None = None


@dataclass(frozen=True)
class Asset:
    """One servable file: its bytes, content type, strong ETag and Cache-Control."""

    body: bytes
    content_type: str
    etag: str
    cache_control: str


def _asset(body: bytes, name: str, cache_control: str = REVALIDATE) -> Asset:
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    ctype = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if ctype.startswith(_TEXT):
        ctype += "; charset=utf-8"
    return Asset(body, ctype, f'"{hashlib.sha256(body).hexdigest()[:32]}"', cache_control)


def bundle(source: str) -> tuple[str, str]:
    """The ES module and the UMD script of a concatenated ``source`` that defines ``Enabler``."""
    inner = f'"use strict";\n{source.rstrip()}\nreturn {{ Enabler }};'
    factory = "const __connector = (() => {\n" + inner + "\n})();\n"
    module = factory + "const Enabler = __connector.Enabler;\nexport { Enabler };\nexport default Enabler;\n"
    script = ("(function (root) {\n" + factory + "root.Connector = { Enabler: __connector.Enabler };\n"
              "})(typeof globalThis !== \"undefined\" ? globalThis : self);\n")
    return module, script


@dataclass(frozen=True)
class Bundle:
    """An instance's servable files by name, and the content-hashed names of the two generated ones."""

    files: Mapping[str, Asset]
    module: str
    script: str


def build(assets: EnablerAssets) -> Bundle:
    """Every file of ``assets`` by the name it is served under; ``ValueError`` when a name clashes."""
    if not assets.sources:
        raise ValueError("EnablerAssets needs at least one source file")
    source = "\n".join(s.read_text(encoding="utf-8") for s in assets.sources)
    files: dict[str, Asset] = {}
    hashed: list[str] = []
    for name, text in zip((MODULE, SCRIPT), bundle(source), strict=True):
        body = text.encode()
        versioned = name.replace("connector-enabler.", f"connector-enabler.{hashlib.sha256(body).hexdigest()[:12]}.")
        files[name] = _asset(body, name)
        files[versioned] = _asset(body, name, IMMUTABLE)
        hashed.append(versioned)
    if assets.files is not None:
        for item in assets.files.iterdir():
            if item.is_file() and not item.name.startswith("."):
                if item.name in files:
                    raise ValueError(f"enabler file {item.name!r} clashes with the generated bundle")
                files[item.name] = _asset(item.read_bytes(), item.name)
    return Bundle(files, hashed[0], hashed[1])
