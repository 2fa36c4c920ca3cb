"""The sandbox card provider called directly: registration, settings, body validation, sync outcomes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

from host import (
    ApiError,
    CaptureMethod,
    GiftCardProvider,
    InvalidFieldError,
    Operation,
    Outcome,
    PaymentProvider,
    Registry,
    RequiredFieldError,
    SessionInfo,
    TxState,
    TxType,
)
from plugins import sandbox, sandbox_giftcard
from plugins.sandbox import SandboxProvider, SandboxSettings
from plugins.sandbox.body import METHODS
from plugins.sandbox.settings import DEV_WEBHOOK_SECRET

if TYPE_CHECKING:
    from conftest import MakeProvider, Requests


def test_both_plugins_register_their_provider_class() -> None:
    got: dict[str, type[PaymentProvider] | type[GiftCardProvider]] = {}
    registry = Registry(lambda name, cls, _plugin: got.__setitem__(name, cls))
    sandbox.register_providers(registry)
    sandbox_giftcard.register_providers(registry)
    assert got == {"sandbox": SandboxProvider,
                   "sandbox_giftcard": sandbox_giftcard.SandboxGiftCardProvider}


def test_settings_defaults_and_camel_case_keys() -> None:
    defaults = SandboxSettings()
    assert (defaults.mode, defaults.webhook_delay, defaults.latency) == ("sync", 0.5, 0)
    assert defaults.error_rate == 0
    assert (defaults.timeout_rate, defaults.timeout, defaults.seed) == (0, 5, None)
    assert (defaults.client_key, defaults.environment) == ("sandbox-client-key", "TEST")
    assert defaults.webhook_secret.get_secret_value() == DEV_WEBHOOK_SECRET
    custom = SandboxSettings.model_validate({"mode": "async", "webhookSecret": "s3cr3t", "webhookDelay": 0.1,
                                             "errorRate": 0.2, "timeoutRate": 0.1, "seed": 7})
    assert (custom.mode, custom.webhook_delay, custom.error_rate, custom.seed) == ("async", 0.1, 0.2, 7)


@pytest.mark.parametrize("bad", [{"unknown": 1}, {"mode": "batch"}, {"errorRate": 1.5},
                                 {"errorRate": 0.6, "timeoutRate": 0.6}, {"webhookSecret": ""}])
def test_settings_refuse_bad_values(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SandboxSettings.model_validate(bad)


def test_secret_never_shows_in_settings_repr_or_errors() -> None:
    settings = SandboxSettings.model_validate({"webhookSecret": "very-secret-value"})
    assert "very-secret-value" not in repr(settings)
    with pytest.raises(ValidationError) as info:
        SandboxSettings.model_validate({"webhookSecret": "very-secret-value", "errorRate": 0.9,
                                        "timeoutRate": 0.9})
    assert "very-secret-value" not in str(info.value)


def test_capabilities() -> None:
    caps = SandboxProvider.capabilities
    assert caps.methods == frozenset(METHODS) == {"card", "invoice", "purchaseorder", "customtestmethod"}
    assert caps.partial_capture and caps.multiple_capture and caps.partial_refund and caps.multiple_refund
    assert caps.webhooks and caps.async_modifications


@pytest.mark.parametrize(("body", "error", "field"), [
    ({}, RequiredFieldError, "paymentMethod"),
    ({"paymentMethod": {"type": "card"}}, RequiredFieldError, "paymentOutcome"),
    ({"paymentMethod": {}, "paymentOutcome": "Authorized"}, RequiredFieldError, "type"),
    ({"paymentMethod": {"type": "purchaseorder"}, "paymentOutcome": "Authorized"}, RequiredFieldError,
     "poNumber"),
    ({"paymentMethod": {"type": "bitcoin"}, "paymentOutcome": "Authorized"}, InvalidFieldError,
     "paymentMethod.type"),
    ({"paymentMethod": {"type": "card"}, "paymentOutcome": "Maybe"}, InvalidFieldError, "paymentOutcome"),
    ({"paymentMethod": "card", "paymentOutcome": "Authorized"}, InvalidFieldError, "paymentMethod"),
    ({"paymentMethod": {"type": "purchaseorder", "poNumber": 12}, "paymentOutcome": "Authorized"},
     InvalidFieldError, "paymentMethod.poNumber"),
])
async def test_body_validation_errors(make_provider: MakeProvider, req: type[Requests], body: dict[str, Any],
                                      error: type[ApiError], field: str) -> None:
    provider = make_provider()
    with pytest.raises(error) as info:
        provider.payment_method(body)  # validated before the host creates a Payment
    assert info.value.status == 400
    assert info.value.error_object()["field"] == field
    with pytest.raises(error):
        await provider.create_payment(req.create(body))


async def test_enum_error_lists_allowed_values(make_provider: MakeProvider) -> None:
    with pytest.raises(InvalidFieldError) as info:
        make_provider().payment_method({"paymentMethod": {"type": "bitcoin"}, "paymentOutcome": "Authorized"})
    message = "The value bitcoin is not valid for field paymentMethod.type."
    assert info.value.body() == {
        "message": message, "statusCode": 400,
        "errors": [{"code": "InvalidField", "message": message, "field": "paymentMethod.type",
                    "invalidValue": "bitcoin", "allowedValues": list(METHODS)}]}


async def test_payment_method_is_the_body_type(make_provider: MakeProvider) -> None:
    body = {"paymentMethod": {"type": "purchaseorder", "poNumber": "PO-1", "invoiceMemo": "x", "extra": 1},
            "paymentOutcome": "Rejected"}
    assert make_provider().payment_method(body) == "purchaseorder"


async def test_authorized_manual_capture(make_provider: MakeProvider, req: type[Requests]) -> None:
    request = req.create()
    result = await make_provider().create_payment(request)
    assert result.psp_reference and result.psp_reference.startswith("sandbox-")
    assert len(result.transactions) == 1
    (auth,) = result.transactions
    assert (auth.type, auth.state, auth.amount, auth.interaction_id) == (
        TxType.AUTHORIZATION, TxState.SUCCESS, request.amount, result.psp_reference)
    assert dict(result.response) == {}


async def test_rejected_gives_a_failed_authorization_even_with_automatic_capture(
        make_provider: MakeProvider, req: type[Requests]) -> None:
    body = {"paymentMethod": {"type": "invoice"}, "paymentOutcome": "Rejected"}
    result = await make_provider().create_payment(req.create(body, capture_method=CaptureMethod.AUTOMATIC))
    assert [(t.type, t.state) for t in result.transactions] == [(TxType.AUTHORIZATION, TxState.FAILURE)]


async def test_automatic_capture_adds_a_charge_with_its_own_interaction_id(
        make_provider: MakeProvider, req: type[Requests]) -> None:
    request = req.create(capture_method=CaptureMethod.AUTOMATIC)
    result = await make_provider().create_payment(request)
    auth, charge = result.transactions
    assert (auth.type, auth.state) == (TxType.AUTHORIZATION, TxState.SUCCESS)
    assert (charge.type, charge.state, charge.amount) == (TxType.CHARGE, TxState.SUCCESS, request.amount)
    assert auth.interaction_id == result.psp_reference
    assert charge.interaction_id == f"{result.psp_reference}:charge"


async def test_each_payment_gets_a_fresh_reference_and_a_retry_the_same(
        make_provider: MakeProvider, req: type[Requests]) -> None:
    provider = make_provider()
    first = await provider.create_payment(req.create(payment=req.payment("pay-1")))
    second = await provider.create_payment(req.create(payment=req.payment("pay-2")))
    retry = await provider.create_payment(req.create(payment=req.payment("pay-1")))
    assert first.psp_reference != second.psp_reference
    assert retry == first


@pytest.mark.parametrize(("operation", "prefix"), [(Operation.CAPTURE, "sandbox-capture-"),
                                                   (Operation.REFUND, "sandbox-refund-"),
                                                   (Operation.CANCEL, "sandbox-cancel-")])
async def test_sync_modifications_are_approved_with_unique_references(
        make_provider: MakeProvider, req: type[Requests], operation: Operation, prefix: str) -> None:
    provider = make_provider()
    call = {Operation.CAPTURE: provider.capture, Operation.REFUND: provider.refund,
            Operation.CANCEL: provider.cancel}[operation]
    first = await call(req.modify(operation, key="k1"))
    second = await call(req.modify(operation, key="k2"))
    assert first.outcome == second.outcome == Outcome.APPROVED
    assert first.psp_reference.startswith(prefix) and second.psp_reference.startswith(prefix)
    assert first.psp_reference != second.psp_reference
    assert first.transactions == ()


async def test_same_idempotency_key_answers_the_first_result(make_provider: MakeProvider,
                                                            req: type[Requests]) -> None:
    provider = make_provider()
    first = await provider.capture(req.modify(key="cap-1"))
    again = await provider.capture(req.modify(key="cap-1"))
    assert again == first


@pytest.mark.parametrize(("operation", "prefix"), [(Operation.REFUND, "sandbox-refund-"),
                                                   (Operation.CANCEL, "sandbox-cancel-")])
async def test_reverse_follows_the_hosts_choice(make_provider: MakeProvider, req: type[Requests],
                                                operation: Operation, prefix: str) -> None:
    result = await make_provider().reverse(req.modify(operation))
    assert result.outcome == Outcome.APPROVED and result.psp_reference.startswith(prefix)


async def test_public_config_has_what_the_template_enabler_needs(make_provider: MakeProvider) -> None:
    """``storedPaymentMethodsConfig`` is the host's to add (tests/host/test_stored_methods.py)."""
    config = await make_provider(clientKey="ck", environment="LIVE").public_config(SessionInfo("s", "c"))
    assert config == {"clientKey": "ck", "environment": "LIVE",
                      "paymentMethods": ["card", "customtestmethod", "invoice", "purchaseorder"]}


async def test_status_up(make_provider: MakeProvider) -> None:
    check = await make_provider().status()
    assert (check.name, check.status) == ("Sandbox Payment API", "UP")


async def test_sync_mode_has_no_routes(make_provider: MakeProvider) -> None:
    assert list(make_provider().routes()) == []
    assert list(make_provider(mode="async").routes()) == []


def test_wrong_settings_class_is_refused() -> None:
    with pytest.raises(TypeError):
        SandboxProvider(sandbox_giftcard.GiftCardSettings(), None)  # type: ignore[arg-type]


RECURRING = {"paymentMethod": {"type": "card", "token": "tok-1", "storedPaymentMethodId": "pm-1"},
             "recurring": True}


@pytest.mark.parametrize("mode", ["sync", "async", "offsite"])
async def test_recurring_payment_from_the_host_is_authorized_without_a_page(
        make_provider: MakeProvider, req: type[Requests], mode: str) -> None:
    provider = make_provider(mode=mode)
    assert provider.payment_method(RECURRING) == "card"
    result = await provider.create_payment(req.create(RECURRING))
    assert [(t.type, t.state) for t in result.transactions] == [(TxType.AUTHORIZATION, TxState.SUCCESS)]
    assert dict(result.response) == {}


async def test_recurring_purchase_order_needs_no_po_number(make_provider: MakeProvider,
                                                           req: type[Requests]) -> None:
    body = {"paymentMethod": {"type": "purchaseorder"}, "recurring": True}
    result = await make_provider().create_payment(req.create(body))
    assert result.transactions[0].state == TxState.SUCCESS
    with pytest.raises(InvalidFieldError):
        make_provider().payment_method({**RECURRING, "paymentOutcome": "Authorized", "recurring": "yes"})
