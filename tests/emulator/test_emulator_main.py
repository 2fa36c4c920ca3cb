"""``python -m emulator`` serves the emulator standalone on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_module_serves_the_emulator_with_sqlite(tmp_path: Path) -> None:
    port = _free_port()
    db = tmp_path / "demo.sqlite"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emulator",
        "--port",
        str(port),
        "--sqlite",
        str(db),
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"{base}/.well-known/jwks.json") as resp:
                        assert resp.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("the emulator did not start")
            async with http.post(
                f"{base}/oauth/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": aiohttp.encode_basic_auth("connector", "connector-secret")},
            ) as resp:
                token = (await resp.json())["access_token"]
            async with http.get(
                f"{base}/demo/payments", headers={"Authorization": f"Bearer {token}"}
            ) as resp:
                assert (await resp.json())["total"] == 0
    finally:
        proc.terminate()
        await proc.wait()
    assert db.exists()
