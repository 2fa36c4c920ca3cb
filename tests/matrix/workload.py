"""The fault matrix's 200 operations: pays, double clicks, redeems, captures, refunds, cancels and reversals,
webhook redeliveries and clients' retries, spread over the cluster's two hosts by a few concurrent workers.

The plan (which kind of operation comes when, and every choice it makes) is drawn from the seed; which
Payment an operation targets depends on what earlier operations were told, so a run is reproducible as far
as concurrency allows. Each request carries ``X-Correlation-ID: fm<n>-<kind>``: the host passes it on to
commercetools, whose fault log names it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from matrix.cluster import CARD, GIFT, GIFT_CODE, Cluster
from matrix.invariants import LIVE, Answer

from host.testing import RunningEmulator
from plugins.sandbox.settings import DEV_WEBHOOK_SECRET
from plugins.sandbox.signing import SIGNATURE_HEADER, sign

KINDS = {"pay": 56, "double": 10, "redeem": 20, "capture": 40, "refund": 24, "cancel": 10, "webhook": 20,
         "retry": 10}      # 200 requests: a double click is two
FIRST = {"pay": 8, "double": 2, "redeem": 2}    # something to capture, refund and retry before the rest
_EVENT = {"Charge": "capture", "Refund": "refund", "CancelAuthorization": "cancel"}


@dataclass(frozen=True)
class Call:
    """One request, as sent (a retry sends it again, with the same Idempotency-Key)."""

    kind: str
    method: str
    path: str
    body: Any
    headers: dict[str, str]
    payment_id: str | None = None
    attempt_key: str | None = None


@dataclass
class Workload:
    cluster: Cluster
    ct: RunningEmulator
    seed: int
    kill_at: int = 80
    answers: list[Answer] = field(default_factory=list)
    authorized: list[str] = field(default_factory=list)
    captured: dict[str, int] = field(default_factory=dict)
    gift_carts: list[str] = field(default_factory=list)
    failed: list[Call] = field(default_factory=list)
    last: dict[str, tuple[Call, Answer]] = field(default_factory=dict)    # by Idempotency-Key
    token: str = ""

    def plan(self) -> list[str]:
        rng = random.Random(self.seed)
        first = [k for k, n in FIRST.items() for _ in range(n)]
        rest = [k for k, n in KINDS.items() for _ in range(n - FIRST.get(k, 0))]
        rng.shuffle(first)
        rng.shuffle(rest)
        return first + rest

    async def run(self, workers: int = 6) -> float:
        """Every operation of the plan; the kill at ``kill_at``. Returns the seconds it took."""
        self.token = self.ct.issue_token("checkout")
        queue = list(enumerate(self.plan()))
        queue.reverse()
        killing: list[asyncio.Task[None]] = []

        async def worker() -> None:
            while queue:
                n, kind = queue.pop()
                if n == self.kill_at:
                    killing.append(asyncio.create_task(self.cluster.kill_and_restart(1)))
                await self.operation(n, kind, random.Random(self.seed * 1000 + n))

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(workers)))
        await asyncio.gather(*killing)
        return time.monotonic() - started

    async def send(self, n: int, call: Call, suffix: str = "", *, other_host: bool = False) -> Answer:
        cid = f"fm{n:03d}-{call.kind}{suffix}"
        body = call.body if isinstance(call.body, bytes) else json.dumps(call.body).encode()
        status, answer = await self.cluster.request(n + other_host, call.method, call.path, data=body, headers={
            "Content-Type": "application/json", "X-Correlation-ID": cid, **call.headers})
        key = call.headers.get("Idempotency-Key")
        result = Answer(cid, call.kind, status, answer, call.payment_id, call.attempt_key, key)
        self.answers.append(result)
        if key is not None:
            self.last[key] = (call, result)
            if status is None or status >= 500:
                self.failed.append(call)
        return result

    async def retry_unfinished(self) -> list[Answer]:
        """Once the day is over: every request with an Idempotency-Key whose last answer was not final (cut,
        5xx, 409) once more, as a client that keeps trying does. Checked by ``invariants.stuck_keys``."""
        unfinished = [call for call, answer in self.last.values()
                      if answer.status is None or answer.status >= 500 or answer.status == 409]
        answers = self.answers
        self.answers = []
        try:
            await asyncio.gather(*(self.send(1000 + i, call, "-after") for i, call in enumerate(unfinished)))
            return self.answers
        finally:
            self.answers = answers

    async def operation(self, n: int, kind: str, rng: random.Random) -> None:
        if kind in ("pay", "double"):
            await self._pay(n, rng, double=kind == "double")
        elif kind == "redeem":
            await self._redeem(n, rng)
        elif kind in ("capture", "refund", "cancel"):
            await self._intent(n, kind, rng)
        elif kind == "webhook":
            await self._webhook(n, rng)
        elif self.failed:
            await self.send(n, self.failed.pop(rng.randrange(len(self.failed))), "-retry")
        else:
            await self._pay(n, rng, double=False)

    def _cart(self, rng: random.Random) -> str:
        cart = self.ct.create_cart("EUR", [{"name": "item", "centAmount": rng.randrange(20, 180) * 50,
                                            "quantity": 1}])
        return str(cart["id"])

    def _session(self, cart_id: str, interface: str) -> dict[str, str]:
        session = self.ct.create_session(cart_id, {"paymentInterface": interface, "processorUrl": "http://x"})
        return {"X-Session-Id": str(session["id"])}

    async def _pay(self, n: int, rng: random.Random, *, double: bool) -> None:
        use_gift = self.gift_carts and rng.random() < 0.5
        cart_id = self.gift_carts.pop() if use_gift else self._cart(rng)
        authorized = rng.random() < 0.9
        body = {"paymentMethod": {"type": "card"}, "paymentOutcome": "Authorized" if authorized else "Rejected"}
        headers = self._session(cart_id, CARD)
        if rng.random() < 0.5:
            headers["Idempotency-Key"] = f"pay-{self.seed}-{n}"
        call = Call("pay", "POST", "/payments", body, headers)
        sent = [self.send(n, call, "-a")] + ([self.send(n, call, "-b", other_host=True)] if double else [])
        for answer in await asyncio.gather(*sent):
            if answer.status == 200 and authorized and answer.body["paymentReference"] not in self.authorized:
                self.authorized.append(str(answer.body["paymentReference"]))

    async def _redeem(self, n: int, rng: random.Random) -> None:
        cart_id = self._cart(rng)
        cart = self.ct.get_cart(cart_id) or {}
        amount = int(cart["totalPrice"]["centAmount"] * rng.choice([0.3, 0.5, 0.7]))
        headers = self._session(cart_id, GIFT)
        if rng.random() < 0.5:
            headers["Idempotency-Key"] = f"redeem-{self.seed}-{n}"
        body = {"code": GIFT_CODE, "redeemAmount": {"centAmount": amount, "currencyCode": "EUR"}}
        answer = await self.send(n, Call("redeem", "POST", "/redeem", body, headers))
        if answer.status == 200 and answer.body.get("result") == "Success":
            self.gift_carts.append(cart_id)

    async def _intent(self, n: int, kind: str, rng: random.Random) -> None:
        recent = self.authorized[-8:]
        if kind == "refund":
            recent = list(self.captured)[-8:]
        elif kind == "cancel":
            recent = [p for p in recent if p not in self.captured]
        if not recent:
            return await self._pay(n, rng, double=False)
        pid = rng.choice(recent)
        planned = int((self.ct.get_payment(pid) or {})["amountPlanned"]["centAmount"])
        if kind == "cancel":
            action: dict[str, Any] = {"action": rng.choice(["cancelPayment", "reversePayment"])}
        else:
            base = self.captured[pid] if kind == "refund" else planned
            cents = rng.choice([base, base // 2, min(base, 500)])
            action = {"action": f"{kind}Payment", "amount": {"centAmount": cents, "currencyCode": "EUR"}}
        headers = {"Authorization": f"Bearer {self.token}"}
        key = None
        if rng.random() < 0.8:
            headers["Idempotency-Key"] = f"{kind}-{self.seed}-{n}"
            key = f"card:{action['action']}:{hashlib.sha256(headers['Idempotency-Key'].encode()).hexdigest()[:24]}"
        call = Call(kind, "POST", f"/operations/payment-intents/{pid}", {"actions": [action]}, headers, pid, key)
        answer = await self.send(n, call)
        if kind == "capture" and answer.status == 200 and answer.body.get("outcome") in ("approved", "received"):
            self.captured[pid] = self.captured.get(pid, 0) + int(action["amount"]["centAmount"])
        return None

    async def _webhook(self, n: int, rng: random.Random) -> None:
        """The PSP delivers a webhook again: a Charge, Refund or cancel it made, told Success."""
        done = [(p, t) for p in self.ct.payments() for t in p.get("transactions") or [] if t["type"] in _EVENT
                and t["state"] in LIVE and str(t.get("interactionId", "")).startswith("sandbox-")]
        if not done:
            return await self._pay(n, rng, double=False)
        payment, tx = rng.choice(done)
        event = {"id": f"evt-{self.seed}-{n}", "type": _EVENT[tx["type"]], "paymentId": payment["id"],
                 "pspReference": tx["interactionId"], "transactionType": tx["type"], "state": "Success",
                 "amount": {"centAmount": tx["amount"]["centAmount"], "currencyCode": "EUR"}}
        raw = json.dumps(event).encode()
        headers = {SIGNATURE_HEADER: sign(DEV_WEBHOOK_SECRET, raw, int(time.time()))}
        await self.send(n, Call("webhook", "POST", "/webhooks/card", raw, headers, payment["id"]))
        return None
