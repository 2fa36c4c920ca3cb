"""``python -m emulator [--host 127.0.0.1] [--port 8081] [--sqlite FILE]``: serve the emulator."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from .app import create_emulator_app
from .config import EmulatorConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m emulator", description="Serve the commercetools emulator locally."
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (127.0.0.1; 0.0.0.0 in a container)")
    parser.add_argument("--port", type=int, default=8081, help="port (8081)")
    parser.add_argument("--sqlite", metavar="FILE", help="persist data to this SQLite file")
    parser.add_argument("--project-key", default="demo", help="project key (demo)")
    parser.add_argument("--issuer", default=EmulatorConfig.issuer, help="Merchant Center JWT issuer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = EmulatorConfig(project_key=args.project_key, sqlite_path=args.sqlite, issuer=args.issuer)
    base = f"http://{args.host}:{args.port}"
    print(f"commercetools emulator for project '{config.project_key}' on {base}")
    for client in config.clients:
        print(f"  client {client.client_id}: {' '.join(client.scopes)}")
    print(f"  JWKS {base}/.well-known/jwks.json (issuer {config.issuer})")
    web.run_app(create_emulator_app(config), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
