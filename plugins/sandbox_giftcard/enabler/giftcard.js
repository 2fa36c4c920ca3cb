// The sandbox gift-card enabler: the interface of the official gift-card template's enabler
// (ENABLERS.md §2): createGiftCardBuilder() → build({...}) → mount(selector), balance(), submit({amount}).
// Needs the sandbox's common.js. Differences from the template, on purpose: isSuccess is a boolean
// (result === "Success"), a processorUrl ending in "/" works, ids are scoped per mount, and a missing
// onError is reported to the console instead of throwing.

const MESSAGES = {
  en: {
    label: "Gift card number",
    NotFound: "The gift card number you entered is invalid. Please try again.",
    Expired: "This gift card has expired.",
    CurrencyNotMatch: "This gift card cannot be used for the currency of your order.",
    ZeroBalance: "This gift card has no balance left.",
    GenericError: "The gift card cannot be used right now. Please try again.",
    redeemFailed: "The gift card could not be charged. Please try again.",
  },
  de: {
    label: "Geschenkkartennummer",
    NotFound: "Die eingegebene Geschenkkartennummer ist ungültig. Bitte versuchen Sie es erneut.",
    Expired: "Diese Geschenkkarte ist abgelaufen.",
    CurrencyNotMatch: "Diese Geschenkkarte gilt nicht für die Währung Ihrer Bestellung.",
    ZeroBalance: "Auf dieser Geschenkkarte ist kein Guthaben mehr.",
    GenericError: "Die Geschenkkarte kann gerade nicht verwendet werden. Bitte versuchen Sie es erneut.",
    redeemFailed: "Die Geschenkkarte konnte nicht belastet werden. Bitte versuchen Sie es erneut.",
  },
  fr: {
    label: "Numéro de carte cadeau",
    NotFound: "Le numéro de carte cadeau saisi n'est pas valide. Veuillez réessayer.",
    Expired: "Cette carte cadeau a expiré.",
    CurrencyNotMatch: "Cette carte cadeau ne peut pas être utilisée dans la devise de votre commande.",
    ZeroBalance: "Cette carte cadeau n'a plus de solde.",
    GenericError: "La carte cadeau ne peut pas être utilisée pour le moment. Veuillez réessayer.",
    redeemFailed: "La carte cadeau n'a pas pu être débitée. Veuillez réessayer.",
  },
};

function messagesFor(locale) {
  const language = String(locale || "en").toLowerCase().split(/[-_]/)[0];
  return MESSAGES[language] || MESSAGES.en;
}

class GiftCardComponent {
  constructor(enabler, config) {
    this.enabler = enabler;
    this.config = config || {};
    this.messages = messagesFor(enabler.options.locale);
    this.root = null;
    this.scope = null;
  }

  mount(selector) {
    const target = prepareMount(this, selector, "ctc-giftcard");
    const id = `${this.scope}-code`;
    this.input = h("input", { id, name: "giftcard-code", autocomplete: "off", "aria-describedby": `${id}-error`,
                              oninput: () => this.changed(), onkeydown: (event) => this.key(event) });
    this.error = h("div", { class: "ctc-error", id: `${id}-error`, role: "alert" });
    this.root = h("div", { class: "ctc-form", "data-ctc-component": "giftcard" },
      h("div", { class: "ctc-field" }, h("label", { for: id }, this.messages.label), this.input, this.error));
    target.append(this.root);
    if (typeof this.config.onGiftCardReady === "function") this.config.onGiftCardReady();
  }

  unmount() {
    if (this.root) this.root.remove();
    this.root = null;
  }

  code() {
    return this.input ? this.input.value.replace(/\s+/g, "") : "";
  }

  changed() {
    this.showError(null);
    if (typeof this.config.onValueChange === "function") this.config.onValueChange(this.code().length > 0);
  }

  key(event) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    this.balance();
    if (typeof this.config.onEnter === "function") this.config.onEnter();
  }

  showError(text) {
    if (!this.error) return;
    this.error.textContent = text || "";
    if (this.input) this.input.setAttribute("aria-invalid", text ? "true" : "false");
  }

  /** POST /balance. The answer when it has a status.state (Valid or not), else undefined. */
  async balance() {
    let answer;
    try {
      answer = await this.enabler.processor.send("POST", "balance", { code: this.code() });
    } catch (error) {
      this.showError(this.messages.GenericError);
      this.enabler.error(error);
      return undefined;
    }
    const state = answer.data && answer.data.status && answer.data.status.state;
    if (!state) {
      this.showError(this.messages.GenericError);
      this.enabler.error(new ProcessorError(errorMessage(answer.data, `POST balance answered HTTP ${answer.status}`),
                                            answer.status, answer.data));
      return undefined;
    }
    if (state !== "Valid") {
      const code = (answer.data.status.errors && answer.data.status.errors[0] && answer.data.status.errors[0].code) || state;
      this.showError(this.messages[code] || this.messages[state] || this.messages.GenericError);
    }
    return answer.data;
  }

  /** POST /redeem of `amount` ({centAmount, currencyCode}); onComplete({isSuccess, paymentReference}). */
  async submit({ amount } = {}) {
    let answer;
    try {
      answer = await this.enabler.processor.send("POST", "redeem", { code: this.code(), redeemAmount: amount });
    } catch (error) {
      this.showError(this.messages.redeemFailed);
      this.enabler.error(error);
      return;
    }
    if (!answer.ok) {
      this.showError(this.messages.redeemFailed);
      this.enabler.error(answer.data || new ProcessorError(`POST redeem answered HTTP ${answer.status}`, answer.status));
      return;
    }
    const success = answer.data && answer.data.result === "Success";
    if (!success) this.showError(this.messages.redeemFailed);
    notify(this.enabler.options.onComplete, { isSuccess: success, paymentReference: answer.data && answer.data.paymentReference });
  }
}

class Enabler {
  /** `{processorUrl, sessionId, locale?, onComplete?, onError?}`. Makes no call until the shopper acts. */
  constructor(options) {
    this.options = { ...options };
    this.processor = new Processor(this.options);
  }

  async createGiftCardBuilder() {
    return { build: (config) => new GiftCardComponent(this, config) };
  }

  error(error) {
    if (typeof this.options.onError === "function") notify(this.options.onError, error);
    else console.error("gift card enabler:", error);
  }
}
