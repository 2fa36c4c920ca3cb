// The demo page's stand-in for commercetools Checkout: loads each instance's enabler (an ES module from
// /enablers/), applies a gift card first, pays the rest with the chosen method, rolls the gift card back
// when that payment fails, and shows the Payments as commercetools records them.
// window.__events keeps every onComplete / onError, for people and tests alike.

const $ = (selector) => document.querySelector(selector);
const state = { checkout: null, enablers: new Map(), gift: null, selected: null };
window.__events = [];

function money(m) {
  const digits = m.fractionDigits ?? 2;
  return `${(m.centAmount / 10 ** digits).toFixed(digits)} ${m.currencyCode}`;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

async function api(path, body) {
  const response = await fetch(`/demo/api/${path}`, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.message || `${path} answered ${response.status}`);
  return data;
}

/** One Enabler per integration; its onComplete/onError settle the payment the page is waiting for. */
async function enablerFor(integration) {
  if (state.enablers.has(integration.instance)) return state.enablers.get(integration.instance);
  const { Enabler } = await import(integration.enabler);
  const channel = { settle: null };
  const record = (type) => (detail) => {
    window.__events.push({ instance: integration.instance, type, detail: describe(detail) });
    if (channel.settle) channel.settle(type === "complete" ? { ok: true, ...detail } : { ok: false, error: detail });
  };
  const enabler = new Enabler({
    processorUrl: state.checkout.processorUrl, sessionId: integration.sessionId, locale: "en",
    onComplete: record("complete"), onError: record("error"),
  });
  const entry = { enabler, channel };
  state.enablers.set(integration.instance, entry);
  return entry;
}

function describe(detail) {
  if (detail instanceof Error) return { message: detail.message, status: detail.status };
  return detail;
}

/** Runs `action` and resolves with what the enabler reported through onComplete / onError. */
function outcomeOf(entry, action) {
  return new Promise((resolve) => {
    let done = false;
    entry.channel.settle = (result) => { if (!done) { done = true; entry.channel.settle = null; resolve(result); } };
    Promise.resolve().then(action).then(
      () => entry.channel.settle && entry.channel.settle({ ok: false, error: new Error("The payment form reported no result.") }),
      (error) => entry.channel.settle && entry.channel.settle({ ok: false, error }));
  });
}

function total() {
  return state.checkout.cart.total;
}

function giftAmount() {
  return state.gift && state.gift.amount ? state.gift.amount : 0;
}

function rest() {
  return { ...total(), centAmount: total().centAmount - giftAmount() };
}

function renderSummary() {
  $("#gift-amount").textContent = giftAmount() ? `− ${money({ ...total(), centAmount: giftAmount() })}` : "–";
  $("#rest").textContent = money(rest());
  $("#pay").disabled = false;
}

function renderCart(cart) {
  const body = $("#lines tbody");
  body.replaceChildren(...cart.lineItems.map((line) => el("tr", {},
    el("td", {}, line.name), el("td", { class: "num" }, `× ${line.quantity}`),
    el("td", { class: "num" }, money(line.total)))));
  $("#total").textContent = money(cart.total);
}

async function setUpGiftCard(integration) {
  const { enabler } = await enablerFor(integration);
  const component = (await enabler.createGiftCardBuilder()).build({ onEnter: () => {} });
  component.mount("#giftcard");
  state.gift = { integration, component, amount: 0, balance: null };
  $("#giftcard-section").hidden = false;
}

async function applyGiftCard() {
  const gift = state.gift;
  gift.amount = 0;
  $("#giftcard-result").textContent = "";
  const balance = await gift.component.balance();
  if (balance && balance.status && balance.status.state === "Valid") {
    gift.amount = Math.min(balance.amount.centAmount, total().centAmount);
    $("#giftcard-result").textContent = `Balance ${money(balance.amount)}: ${money({ ...total(), centAmount: gift.amount })} will be paid by gift card.`;
  }
  renderSummary();
}

const LABELS = { card: "Card", invoice: "Invoice", purchaseorder: "Purchase order",
                 customtestmethod: "Custom test method", payment: "Card (Stripe Payment Element)",
                 "dropin:embedded": "Card (Stripe Payment Element)" };

function renderMethods() {
  const options = [];
  for (const integration of state.checkout.integrations) {
    if (integration.kind !== "payment" || !integration.enabler) continue;
    // a drop-in (the official Stripe shape lists the Payment Element as the embedded drop-in) is one more choice
    const choices = [...integration.components, ...(integration.dropins || []).map((d) => `dropin:${d}`)];
    for (const type of choices) {
      const id = `method-${integration.instance}-${type}`;
      options.push(el("label", { for: id },
        el("input", { type: "radio", name: "method", id, value: type,
                      onchange: () => selectMethod(integration, type) }),
        ` ${LABELS[type] || type} `, el("small", {}, `(${integration.instance})`)));
    }
  }
  $("#methods").replaceChildren(...options);
}

async function selectMethod(integration, type) {
  if (state.selected && state.selected.component.unmount) state.selected.component.unmount();
  $("#component").replaceChildren();
  state.selected = null;
  $("#pay").disabled = true;   // until the method's component is ready: a click now would pay with nothing
  try {
    const entry = await enablerFor(integration);
    const builder = type.startsWith("dropin:") ? await entry.enabler.createDropinBuilder(type.slice(7))
      : await entry.enabler.createComponentBuilder(type);
    const component = builder.build({ showPayButton: false });
    component.mount("#component");
    state.selected = { integration, type, component, entry };
  } catch (error) {
    $("#component").replaceChildren(el("p", { class: "state-Failure" }, `This payment method cannot be used: ${error.message}`));
  } finally {
    $("#pay").disabled = false;
  }
}

function showOutcome(success, title, text) {
  const section = $("#outcome");
  section.hidden = false;
  section.className = success ? "success" : "failure";
  $("#outcome-title").textContent = title;
  $("#outcome-text").textContent = text;
}

function errorText(result) {
  const error = result.error;
  return (error && (error.message || (error.status && error.status.errors && error.status.errors[0].message))) || "";
}

async function pay() {
  const toPay = rest();
  $("#pay").disabled = true;
  $("#outcome").hidden = true;
  try {
    const method = state.selected;
    if (toPay.centAmount > 0 && !method) {
      showOutcome(false, "Choose a payment method", `${money(toPay)} is left to pay.`);
      return;
    }
    if (toPay.centAmount > 0 && method.component.isValid && !method.component.isValid()) {
      method.component.showValidation();
      return;
    }
    let giftPayment = null;
    if (giftAmount() > 0) {
      const entry = await enablerFor(state.gift.integration);
      const amount = { centAmount: giftAmount(), currencyCode: total().currencyCode };
      const result = await outcomeOf(entry, () => state.gift.component.submit({ amount }));
      if (!result.ok || !result.isSuccess) {
        showOutcome(false, "Gift card not charged", errorText(result) || "The gift card could not be charged.");
        return;
      }
      giftPayment = { id: result.paymentReference, amount };
    }
    if (toPay.centAmount > 0) {
      const result = await outcomeOf(method.entry, () => method.component.submit({ storePaymentDetails: false }));
      if (!result.ok || !result.isSuccess) {
        let text = result.ok ? "The payment was declined." : `The payment failed: ${errorText(result)}`;
        if (giftPayment) text += ` ${await rollBack(giftPayment)}`;
        showOutcome(false, "Payment failed", text);
        return;
      }
    }
    showOutcome(true, "Thank you for your order", `${money(total())} paid.`);
  } finally {
    await showPayments();
    $("#pay").disabled = false;
  }
}

/** What Checkout does when the payment after a redeemed gift card fails: refund the gift card. */
async function rollBack(giftPayment) {
  try {
    const answer = await api(`payment-intents/${giftPayment.id}`, { action: "refundPayment", amount: giftPayment.amount });
    return answer.outcome === "approved" ? `The gift card was refunded ${money(giftPayment.amount)}.`
                                         : `Refunding the gift card was ${answer.outcome}.`;
  } catch (error) {
    return `Refunding the gift card failed: ${error.message}`;
  }
}

function sum(transactions, type) {
  return transactions.filter((t) => t.type === type && (t.state === "Success" || t.state === "Pending"))
    .reduce((total, t) => total + t.amount.centAmount, 0);
}

function merchantActions(payment) {
  const txs = payment.transactions;
  const authorized = sum(txs, "Authorization");
  const charged = sum(txs, "Charge");
  const refunded = sum(txs, "Refund");
  const cancelled = sum(txs, "CancelAuthorization") > 0;
  const planned = payment.amountPlanned;
  const buttons = [];
  const button = (label, action, cents) => buttons.push(el("button", {
    type: "button", "data-action": action,
    onclick: () => modify(payment, action, cents === undefined ? undefined : { ...planned, centAmount: cents }),
  }, label));
  if (authorized > charged && !cancelled) {
    button(`Capture ${money({ ...planned, centAmount: authorized - charged })}`, "capturePayment", authorized - charged);
  }
  if (authorized > 0 && charged === 0 && !cancelled) button("Cancel", "cancelPayment");
  if (charged > refunded) button(`Refund ${money({ ...planned, centAmount: charged - refunded })}`, "refundPayment", charged - refunded);
  return buttons;
}

async function modify(payment, action, amount) {
  $("#merchant-result").textContent = "";
  try {
    const answer = await api(`payment-intents/${payment.id}`, amount ? { action, amount } : { action });
    $("#merchant-result").textContent = answer.outcome ? `${action}: ${answer.outcome}` : `${action}: ${answer.message}`;
  } catch (error) {
    $("#merchant-result").textContent = `${action} failed: ${error.message}`;
  }
  await showPayments();
}

async function showPayments() {
  const cart = await api(`carts/${state.checkout.cart.id}`);
  const list = cart.payments.map((payment) => el("div", { class: "payment", "data-payment": payment.id,
                                                         "data-method": payment.method || "" },
    el("h3", {}, `${payment.method || "payment"} · ${payment.paymentInterface} · ${money(payment.amountPlanned)}`),
    el("table", {}, el("tbody", {}, payment.transactions.map((t) => el("tr", {},
      el("td", {}, t.type), el("td", { class: `state-${t.state}` }, t.state), el("td", { class: "num" }, money(t.amount)))))),
    el("div", { class: "actions" }, merchantActions(payment)),
    el("small", {}, `Payment ${payment.id}`)));
  $("#payments").replaceChildren(...list);
  $("#order").hidden = list.length === 0;
}

async function start() {
  state.checkout = await api("checkout", {});
  renderCart(state.checkout.cart);
  const giftcards = state.checkout.integrations.find((i) => i.kind === "giftcard" && i.enabler);
  if (giftcards) await setUpGiftCard(giftcards);
  renderMethods();
  renderSummary();
  document.body.dataset.cart = state.checkout.cart.id;
  document.body.dataset.ready = "true";
}

$("#apply-giftcard").addEventListener("click", applyGiftCard);
$("#pay").addEventListener("click", pay);
$("#new-cart").addEventListener("click", () => window.location.reload());
start().catch((error) => showOutcome(false, "The demo could not start", error.message));
