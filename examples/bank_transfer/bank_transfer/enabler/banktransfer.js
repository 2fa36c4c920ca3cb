// The bank-transfer enabler: createComponentBuilder("banktransfer") → build() → mount(selector), submit().
// submit() asks the processor for the transfer details (POST /payments) and shows them: the shopper pays
// later, by bank transfer, so an accepted order is a success although the Authorization stays Pending.
// A script body: connector-host wraps it into connector-enabler.es.js and .umd.js.

async function post(options, path, body) {
  const response = await fetch(`${String(options.processorUrl).replace(/\/+$/, "")}/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Session-Id": options.sessionId },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw Object.assign(new Error((data && data.message) || `HTTP ${response.status}`), { status: response.status });
  }
  return data;
}

function line(label, value) {
  const row = document.createElement("div");
  const name = document.createElement("dt");
  const text = document.createElement("dd");
  name.textContent = label;
  text.textContent = value;
  row.append(name, text);
  return row;
}

class TransferComponent {
  constructor(enabler) {
    this.enabler = enabler;
    this.root = null;
  }

  mount(selector) {
    this.unmount();
    this.root = document.createElement("div");
    this.root.className = "ctc-banktransfer";
    const note = document.createElement("p");
    note.textContent = "Pay by bank transfer: you get the account and the reference when you place the order.";
    this.root.append(note);
    document.querySelector(selector).append(this.root);
  }

  unmount() {
    if (this.root) this.root.remove();
    this.root = null;
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

  async submit() {
    const { options } = this.enabler;
    let data;
    try {
      data = await post(options, "payments", { paymentMethod: { type: "banktransfer" } });
    } catch (error) {
      if (options.onError) options.onError(error);
      return;
    }
    if (this.root) {
      const details = document.createElement("dl");
      const amount = data.amount ? `${(data.amount.centAmount / 100).toFixed(2)} ${data.amount.currencyCode}` : "";
      details.append(line("Amount", amount), line("Account holder", data.accountHolder), line("IBAN", data.iban),
                     line("BIC", data.bic), line("Reference", data.transferReference), line("Pay by", data.dueDate));
      this.root.replaceChildren(details);
    }
    if (options.onComplete) options.onComplete({ isSuccess: true, paymentReference: data.paymentReference });
  }
}

class Enabler {
  /** {processorUrl, sessionId, onComplete?, onError?}, as Checkout passes them. */
  constructor(options) {
    this.options = { ...options };
  }

  async createComponentBuilder(type) {
    if (type !== "banktransfer") throw new Error(`Component type not supported: ${type}`);
    return { componentHasSubmit: true, build: () => new TransferComponent(this) };
  }
}
