"""The README's curl walk-through, pasted into a shell against ``connector-host serve`` on connector.yaml."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _blocks() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    walkthrough = text.split("## A full payment by curl", 1)[1].split("\n## ", 1)[0]
    return "\n".join(re.findall(r"```sh\n(.*?)```", walkthrough, flags=re.S))


def _json_documents(text: str) -> list[dict]:  # type: ignore[type-arg]
    """The JSON objects in curl's output (curl adds no newline after a body)."""
    decoder, docs, i = json.JSONDecoder(), [], 0
    while (i := text.find("{", i)) != -1:
        doc, i = decoder.raw_decode(text, i)
        docs.append(doc)
    return docs


def test_readme_walkthrough_works_by_copy_paste(tmp_path: Path) -> None:
    port, ct_port, metrics_port = _free_port(), _free_port(), _free_port()
    env = {**os.environ, "PORT": str(port), "CT_EMULATOR_PORT": str(ct_port), "METRICS_PORT": str(metrics_port),
           "CTP_JWT_ISSUER": f"http://127.0.0.1:{ct_port}/mc", "CONNECTOR_HOST_BLOCK_PLUGINS": ""}
    env.pop("CONNECTOR_CONFIG", None)
    venv_bin = Path(sys.executable).parent
    log = tmp_path / "serve.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen([str(venv_bin / "connector-host"), "serve", "--config", "connector.yaml"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the host did not start"
                time.sleep(0.1)
        script = _blocks().replace("localhost:8080", f"localhost:{port}").replace(
            "localhost:9464", f"localhost:{metrics_port}").replace(".venv/bin/", f"{venv_bin}/")
        # the demo commands find the stand-in through connector.yaml, which reads CT_EMULATOR_PORT
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        responses, _, metrics = result.stdout.partition("connector_host_requests_total")
        docs = _json_documents(responses)
        assert docs[0].get("storedPaymentMethodsConfig") == {"isEnabled": False}          # config
        assert docs[1] == {"outcome": "approved"} and docs[2] == {"outcome": "approved"}  # capture, refund
        assert docs[3]["status"] == "OK"                                                   # status
        assert docs[4] == {"status": {"state": "Valid"}, "amount": {"centAmount": 5000, "currencyCode": "EUR"}}
        assert docs[5]["result"] == "Success"
        counted = {line.rpartition(" ")[0]: float(line.rpartition(" ")[2])
                   for line in ("connector_host_requests_total" + metrics).splitlines()}
        by_instance = {(k.split('instance_id="')[1].split('"')[0], k.split('route="')[1].split('"')[0]): v
                       for k, v in counted.items() if 'status="200"' in k}
        assert by_instance == {("sandbox", "/operations/config"): 1, ("sandbox", "/payments"): 1,
                               ("sandbox", "/operations/payment-intents/{paymentId}"): 2,
                               ("giftcards", "/balance"): 1, ("giftcards", "/redeem"): 1}
    finally:
        server.terminate()
        server.wait(timeout=10)
