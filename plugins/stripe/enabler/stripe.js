// The Stripe enabler: the Stripe Payment Element (and Express Checkout Element) driven by the plugin's
// routes, in the order the official Stripe connector's enabler uses (ENABLERS.md §3, STRIPE.md §1):
//   new Enabler(...)   GET /config-element/{type} and GET /operations/config, then Stripe.js
//   mount(selector)    stripe.elements({mode, amount, currency, captureMethod, ...}).create(...).mount()
//   submit()           elements.submit() → POST /payments → stripe.confirmPayment(...)
//                      → POST /confirmPayments/{paymentReference} → onComplete({isSuccess, paymentReference})
// Stripe.js comes from Stripe (STRIPE_JS) unless the page already has window.Stripe.

const STRIPE_JS = "https://js.stripe.com/clover/stripe.js";
let stripeJs = null;

function loadStripeJs() {
  if (window.Stripe) return Promise.resolve(window.Stripe);
  if (!stripeJs) {
    stripeJs = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = STRIPE_JS;
      script.onload = () => (window.Stripe ? resolve(window.Stripe) : reject(new Error("Failed to load Stripe.js")));
      script.onerror = () => { stripeJs = null; reject(new Error("Failed to load Stripe.js")); };
      document.head.append(script);
    });
  }
  return stripeJs;
}

function parsed(text, fallback) {
  if (typeof text !== "string" || !text) return fallback;
  try {
    return JSON.parse(text);
  } catch (_) {
    return fallback;
  }
}

function report(callback, value) {
  if (typeof callback !== "function") return;
  try {
    callback(value);
  } catch (error) {
    console.error("stripe enabler: a callback threw", error);
  }
}

/** The return URL Stripe sends a shopper back to after a redirecting payment method. */
function returnUrl(payment) {
  const url = new URL(payment.merchantReturnUrl || window.location.href, window.location.href);
  url.searchParams.set("cartId", payment.cartId || "");
  url.searchParams.set("paymentReference", payment.paymentReference);
  return url.toString();
}

const LAYOUTS = new Set(["tabs", "accordion", "auto"]);

class StripeComponent {
  constructor(enabler, element, kind) {
    this.enabler = enabler;
    this.config = element;
    this.kind = kind;
    this.element = null;
    this.elements = null;
  }

  mount(selector) {
    this.unmount();
    const cart = this.config.cartInfo;
    const options = {
      mode: this.config.paymentMode || "payment", amount: cart.amount, currency: String(cart.currency).toLowerCase(),
      captureMethod: this.config.captureMethod === "manual" ? "manual" : "automatic",
      appearance: parsed(this.config.appearance, {}),
    };
    if (Array.isArray(this.config.paymentMethodTypes)) options.paymentMethodTypes = this.config.paymentMethodTypes;
    this.elements = this.enabler.stripe.elements(options);
    if (this.kind === "expressCheckout") {
      this.element = this.elements.create("expressCheckout", {});
      this.element.on("confirm", () => this.submit());
    } else {
      const layout = parsed(this.config.layout, {});
      this.element = this.elements.create("payment", {
        layout: LAYOUTS.has(layout.type) ? layout : { type: "tabs", defaultCollapsed: false },
      });
    }
    this.element.mount(selector);
  }

  unmount() {
    if (this.element) {
      if (typeof this.element.destroy === "function") this.element.destroy();
      else this.element.unmount();
    }
    this.element = null;
  }

  async isAvailable() {
    return true;
  }

  /** `storePaymentDetails` (or the enabler's `setStorePaymentDetails(true)`): Stripe keeps the card for the
   * shopper's customer account, and the processor stores it once Stripe authorized (setup_future_usage). */
  async submit({ storePaymentDetails = false } = {}) {
    const { options } = this.enabler;
    const store = Boolean(storePaymentDetails || this.enabler.storePaymentDetails);
    let payment;
    try {
      // a deferred intent's Elements must say what the PaymentIntent will say
      if (store) this.elements.update({ setupFutureUsage: this.config.setupFutureUsage || "off_session" });
      const submitted = await this.elements.submit();
      if (submitted && submitted.error) throw submitted.error;
      const paymentMethod = store ? { type: this.kind, storePaymentMethod: true } : { type: this.kind };
      payment = await this.enabler.call("POST", "payments", { paymentMethod });
      const result = await this.enabler.stripe.confirmPayment({
        clientSecret: payment.clientSecret, elements: this.elements, redirect: "if_required",
        confirmParams: { return_url: returnUrl(payment) },
      });
      if (result.error) {
        // Stripe declined: the Payment's Authorization fails when Stripe's webhook arrives.
        report(options.onComplete, { isSuccess: false, paymentReference: payment.paymentReference });
        return;
      }
      const answer = await this.enabler.call("POST", `confirmPayments/${encodeURIComponent(payment.paymentReference)}`,
                                              { paymentIntent: result.paymentIntent.id });
      report(options.onComplete, { isSuccess: answer.outcome === "approved", paymentReference: payment.paymentReference,
                                   paymentIntent: result.paymentIntent.id });
    } catch (error) {
      report(options.onError, error);
    }
  }
}

class Enabler {
  /** `{processorUrl, sessionId, paymentElementType?, locale?, onComplete?, onError?}` */
  constructor(options) {
    if (!options || !options.processorUrl || !options.sessionId) throw new TypeError("processorUrl and sessionId are required");
    this.options = { ...options };
    this.url = String(options.processorUrl).replace(/\/+$/, "");
    this.stripe = null;
    this.storePaymentDetails = false;
    this.elementConfigs = new Map();
    this.setupData = this.setup(this.options.paymentElementType || "paymentElement");
    this.setupData.catch((error) => report(this.options.onError, error));
  }

  /** A processor call with the session; a non-2xx answer throws an Error with its status and body. */
  async call(method, path, body) {
    const response = await fetch(`${this.url}/${path}`, {
      method, headers: { "Content-Type": "application/json", "X-Session-Id": this.options.sessionId },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error((data && data.message) || `${method} /${path} answered HTTP ${response.status}`);
      Object.assign(error, { status: response.status, body: data });
      throw error;
    }
    return data;
  }

  elementConfig(type) {
    if (!this.elementConfigs.has(type)) this.elementConfigs.set(type, this.call("GET", `config-element/${type}`));
    return this.elementConfigs.get(type);
  }

  async setup(type) {
    const [, config] = await Promise.all([this.elementConfig(type), this.call("GET", "operations/config")]);
    const Stripe = await loadStripeJs();
    this.stripe = Stripe(config.publishableKey);
    return config;
  }

  async builder(kind, type) {
    await this.setupData;
    const element = await this.elementConfig(type);
    return { componentHasSubmit: kind !== "expressCheckout", dropinHasSubmit: true,
             build: () => new StripeComponent(this, element, kind) };
  }

  setStorePaymentDetails(value) {
    this.storePaymentDetails = Boolean(value);
  }

  async createDropinBuilder(type) {
    if (type !== "embedded") throw new Error(`Dropin type not supported: ${type}`);
    return this.builder("payment", "paymentElement");
  }

  async createComponentBuilder(type) {
    if (type === "payment") return this.builder("payment", "paymentElement");
    if (type === "expressCheckout") return this.builder("expressCheckout", "expressCheckout");
    throw new Error(`Component type not supported: ${type}`);
  }

  async createExpressBuilder(type) {
    if (type !== "expressCheckout" && type !== "dropin") throw new Error(`Express type not supported: ${type}`);
    return this.builder("expressCheckout", "expressCheckout");
  }
}
