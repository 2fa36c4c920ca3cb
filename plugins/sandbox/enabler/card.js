// The sandbox payment enabler: the interface of the official payment template's enabler (ENABLERS.md §1)
// for card, invoice, purchaseorder and customtestmethod, and the stored-card builder. Needs common.js.
//
// No card data leaves the browser. As in the template, the "PSP decision" is made here: the test cards
// 4111 1111 1111 1111, 5555 5555 5555 4444 and 3419 259502 37632 are authorized, any other valid card is
// declined, and the processor records what it is told ({"paymentOutcome": "Authorized" | "Rejected"}).

const AUTHORIZED_CARDS = new Set(["4111111111111111", "5555555555554444", "341925950237632"]);
const STORED_CARD_CVC = "737";
const LABELS = {
  card: "Card", invoice: "Invoice", purchaseorder: "Purchase order", customtestmethod: "Custom test method",
};

function digits(value) {
  return String(value || "").replace(/[\s-]/g, "");
}

function luhn(number) {
  let sum = 0;
  for (let i = 0; i < number.length; i += 1) {
    let d = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

function brandOf(number) {
  if (/^4/.test(number)) return "visa";
  if (/^(5[1-5]|2[2-7])/.test(number)) return "mastercard";
  if (/^3[47]/.test(number)) return "amex";
  return "unknown";
}

function expiryProblem(value, now = new Date()) {
  const match = /^(\d{2})\s*\/\s*(\d{2})$/.exec(String(value || "").trim());
  if (!match) return "Enter the expiry date as MM/YY.";
  const month = Number(match[1]);
  const year = 2000 + Number(match[2]);
  if (month < 1 || month > 12) return "Enter the expiry date as MM/YY.";
  if (year < now.getFullYear() || (year === now.getFullYear() && month < now.getMonth() + 1)) {
    return "This card has expired.";
  }
  return null;
}

/** Base of every component: mount/unmount with ids scoped to the mount, submit through the enabler. */
class Component {
  constructor(enabler, type, config) {
    this.enabler = enabler;
    this.type = type;
    this.config = config || {};
    this.root = null;
    this.scope = null;
    this.storable = false;   // may the shopper store it (storePaymentDetails)? Cards only
  }

  mount(selector) {
    const target = prepareMount(this, selector, `ctc-${this.type}`);
    this.root = h("form", { class: "ctc-form", "data-ctc-component": this.type, novalidate: true,
                            onsubmit: (event) => { event.preventDefault(); this.submit(); } },
                  this.render());
    if (this.config.showPayButton) {
      this.root.append(h("button", { class: "ctc-pay", type: "submit", id: this.id("pay") }, "Pay"));
    }
    target.append(this.root);
  }

  /** Removes the component from the page; it can be mounted again. */
  unmount() {
    if (this.root) this.root.remove();
    this.root = null;
  }

  id(name) {
    return `${this.scope}-${name}`;
  }

  render() {
    return [h("p", { class: "ctc-note" }, `Pay by ${LABELS[this.type] || this.type}.`)];
  }

  isValid() {
    return true;
  }

  showValidation() {}

  getState() {
    return {};
  }

  async isAvailable() {
    return true;
  }

  paymentMethod() {
    return { type: this.type };
  }

  /** What the shopper will see of a stored method: display data only, never the card number. */
  displayData() {
    return {};
  }

  outcome() {
    return "Authorized";
  }

  async submit({ storePaymentDetails = false } = {}) {
    if (!this.isValid()) {
      this.showValidation();
      return;
    }
    const method = this.paymentMethod();
    if (this.storable && (storePaymentDetails || this.enabler.storePaymentDetails)) {
      method.storePaymentMethod = true;
      Object.assign(method, this.displayData());
    }
    await this.enabler.pay(method, this.outcome());
  }
}

/** A text field with its label and its error line, ids scoped to the mount. */
function field(component, name, label, attrs) {
  const id = component.id(name);
  return h("div", { class: "ctc-field" },
    h("label", { for: id }, label),
    h("input", { id, name, "aria-describedby": `${id}-error`, ...attrs }),
    h("div", { class: "ctc-error", id: `${id}-error`, role: "alert" }));
}

class FieldsComponent extends Component {
  /** {name: problem or null} for the current input. */
  problems() {
    return {};
  }

  value(name) {
    const input = this.root && this.root.querySelector(`#${this.id(name)}`);
    return input ? input.value : "";
  }

  isValid() {
    return Object.values(this.problems()).every((p) => !p);
  }

  showValidation() {
    if (!this.root) return;
    for (const [name, problem] of Object.entries(this.problems())) {
      const input = this.root.querySelector(`#${this.id(name)}`);
      const error = this.root.querySelector(`#${this.id(name)}-error`);
      if (input) input.setAttribute("aria-invalid", problem ? "true" : "false");
      if (error) error.textContent = problem || "";
    }
  }
}

class CardComponent extends FieldsComponent {
  constructor(enabler, type, config) {
    super(enabler, type, config);
    this.storable = true;
  }

  render() {
    return [
      field(this, "cardNumber", "Card number", { inputmode: "numeric", autocomplete: "cc-number",
                                                  placeholder: "1234 5678 9012 3456" }),
      h("div", { class: "ctc-row" },
        field(this, "expiryDate", "Expiry date", { autocomplete: "cc-exp", placeholder: "MM/YY" }),
        field(this, "cvv", "Security code", { inputmode: "numeric", autocomplete: "cc-csc", placeholder: "123" })),
      field(this, "holderName", "Name on card", { autocomplete: "cc-name" }),
    ];
  }

  problems() {
    const number = digits(this.value("cardNumber"));
    return {
      cardNumber: /^\d{12,19}$/.test(number) && luhn(number) ? null : "Enter a valid card number.",
      expiryDate: expiryProblem(this.value("expiryDate")),
      cvv: /^\d{3,4}$/.test(digits(this.value("cvv"))) ? null : "Enter the 3 or 4 digit security code.",
    };
  }

  getState() {
    const number = digits(this.value("cardNumber"));
    return { card: { endDigits: number.slice(-4), brand: brandOf(number), expiryDate: this.value("expiryDate").trim() } };
  }

  outcome() {
    return AUTHORIZED_CARDS.has(digits(this.value("cardNumber"))) ? "Authorized" : "Rejected";
  }

  displayData() {
    const number = digits(this.value("cardNumber"));
    const [month, year] = this.value("expiryDate").split("/").map((part) => Number(part.trim()));
    return { card: { endDigits: number.slice(-4), brand: brandOf(number), expiryMonth: month, expiryYear: 2000 + year } };
  }
}

class PurchaseOrderComponent extends FieldsComponent {
  render() {
    return [field(this, "poNumber", "Purchase order number", {}),
            field(this, "invoiceMemo", "Invoice memo (optional)", {})];
  }

  problems() {
    return { poNumber: this.value("poNumber").trim() ? null : "Enter the purchase order number." };
  }

  paymentMethod() {
    const method = { type: "purchaseorder", poNumber: this.value("poNumber").trim() };
    const memo = this.value("invoiceMemo").trim();
    if (memo) method.invoiceMemo = memo;
    return method;
  }
}

/** A stored card (from GET /stored-payment-methods): only its security code is asked for. */
class StoredCardComponent extends FieldsComponent {
  constructor(enabler, config) {
    super(enabler, "stored-card", config);
    this.method = enabler.storedMethods.find((m) => m.id === this.config.id);
    if (!this.method) throw new Error(`No stored payment method ${this.config.id}`);
  }

  render() {
    const display = this.method.displayOptions || {};
    const brand = (display.brand && display.brand.key) || this.method.type;
    return [h("p", { class: "ctc-note" }, `${brand} •••• ${display.endDigits || ""}`),
            field(this, "cvv", "Security code", { inputmode: "numeric", autocomplete: "cc-csc" })];
  }

  problems() {
    return { cvv: /^\d{3,4}$/.test(digits(this.value("cvv"))) ? null : "Enter the 3 or 4 digit security code." };
  }

  paymentMethod() {
    return { type: this.method.type, storedPaymentMethodId: this.method.id };
  }

  outcome() {
    return digits(this.value("cvv")) === STORED_CARD_CVC ? "Authorized" : "Rejected";
  }

  /** DELETE /stored-payment-methods/{id}; true when the processor removed it. */
  async remove() {
    try {
      await this.enabler.processor.call("DELETE", `stored-payment-methods/${encodeURIComponent(this.method.id)}`);
    } catch (error) {
      notify(this.enabler.options.onError, error);
      throw error;
    }
    this.enabler.storedMethods = this.enabler.storedMethods.filter((m) => m.id !== this.method.id);
    this.unmount();
    return true;
  }
}

const COMPONENTS = {
  card: CardComponent,
  invoice: Component,
  purchaseorder: PurchaseOrderComponent,
  customtestmethod: Component,
};

class Builder {
  constructor(build) {
    this.componentHasSubmit = true;
    this.build = build;
  }
}

class Enabler {
  /** `{processorUrl, sessionId, locale?, countryCode?, onComplete?, onError?, onActionRequired?}` */
  constructor(options) {
    this.options = { ...options };
    this.processor = new Processor(this.options);
    this.storePaymentDetails = false;
    this.storedMethods = [];
    this.setupData = this.setup();
    // The template leaves a failed setup unreported; Checkout should hear of it.
    this.setupData.catch((error) => notify(this.options.onError, error));
  }

  async setup() {
    const config = (await this.processor.call("GET", "operations/config")) || {};
    const stored = Boolean(config.storedPaymentMethodsConfig && config.storedPaymentMethodsConfig.isEnabled);
    if (stored) {
      const data = await this.processor.call("GET", "stored-payment-methods");
      this.storedMethods = (data && data.storedPaymentMethods) || [];
    }
    return { config, storedPaymentMethodsEnabled: stored };
  }

  async createComponentBuilder(type) {
    const { config } = await this.setupData;
    const Kind = COMPONENTS[type];
    const offered = Array.isArray(config.paymentMethods) ? config.paymentMethods : Object.keys(COMPONENTS);
    if (!Kind || !offered.includes(type)) throw new Error(`Component type not supported: ${type}`);
    return new Builder((buildConfig) => new Kind(this, type, buildConfig));
  }

  async createDropinBuilder(type) {
    throw new Error(`Dropin type not supported: ${type}`);
  }

  async createStoredPaymentMethodBuilder(type) {
    if (!(await this.isStoredPaymentMethodsEnabled())) throw new Error("Stored payment methods are not enabled.");
    if (type !== "card") throw new Error(`Stored payment method type not supported: ${type}`);
    return new Builder((buildConfig) => new StoredCardComponent(this, buildConfig));
  }

  async isStoredPaymentMethodsEnabled() {
    return (await this.setupData).storedPaymentMethodsEnabled;
  }

  async getStoredPaymentMethods({ allowedMethodTypes } = {}) {
    await this.setupData;
    const allowed = (m) => !allowedMethodTypes || allowedMethodTypes.includes(m.type);
    return { storedPaymentMethods: this.storedMethods.filter(allowed).map(({ token, ...shown }) => shown) };
  }

  setStorePaymentDetails(value) {
    this.storePaymentDetails = Boolean(value);
  }

  /** POST /payments; onComplete with isSuccess from the outcome, onError for any failed call. */
  async pay(paymentMethod, outcome) {
    let data;
    try {
      data = await this.processor.call("POST", "payments", { paymentMethod, paymentOutcome: outcome });
      if (!data || !data.paymentReference) {
        throw new ProcessorError("The processor answered without a paymentReference.", 200, data);
      }
    } catch (error) {
      notify(this.options.onError, error);
      return;
    }
    notify(this.options.onComplete, { isSuccess: outcome === "Authorized", paymentReference: data.paymentReference });
  }
}
