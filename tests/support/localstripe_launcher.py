"""Run localstripe for the tests: ``python localstripe_launcher.py PORT``.

localstripe (GPL-3.0) is a test dependency that runs in its own process and is imported only here. Its
own CLI binds every interface and pickles the whole store to /tmp after every write; this launcher binds
127.0.0.1 only and turns persistence off, so every run starts empty and leaves nothing behind. Its
deprecation warnings stay in this process (pytest's ``filterwarnings = error`` never sees them).
"""

from __future__ import annotations

import logging
import sys
import warnings


def main(argv: list[str]) -> None:
    port = int(argv[1]) if len(argv) > 1 else 8420
    warnings.simplefilter("ignore")  # localstripe registers sync handlers, which aiohttp deprecates

    from aiohttp import web
    from localstripe import server
    from localstripe.resources import store

    # The store pickles itself on every __setitem__/__delitem__ and after every write request.
    store.dump_to_disk = lambda: None
    logging.basicConfig(level=logging.WARNING)
    web.run_app(server.app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main(sys.argv)
