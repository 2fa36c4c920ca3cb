// Helpers shared by the sandbox enablers. A script body: connector-host wraps it into the ES module and
// the UMD script (host/enablers.py), so nothing here reaches the page's global scope.

/** `base` + "/" + `path`, with no doubled or missing slash: a processorUrl may end in "/". */
function joinUrl(base, path) {
  return String(base).replace(/\/+$/, "") + "/" + String(path).replace(/^\/+/, "");
}

/** A processor answer that is not 2xx: `status` and the parsed `body` (the contract's envelope). */
class ProcessorError extends Error {
  constructor(message, status, body) {
    super(message);
    this.name = "ProcessorError";
    this.status = status;
    this.body = body;
  }
}

function errorMessage(body, fallback) {
  if (body && typeof body.message === "string") return body.message;
  const state = body && body.status && body.status.errors && body.status.errors[0];
  if (state && typeof state.message === "string") return state.message;
  return fallback;
}

/** Calls the processor as the official enablers do: JSON, and the session in X-Session-Id. */
class Processor {
  constructor(options) {
    if (!options || !options.processorUrl) throw new TypeError("processorUrl is required");
    if (!options.sessionId) throw new TypeError("sessionId is required");
    this.url = String(options.processorUrl);
    this.sessionId = String(options.sessionId);
  }

  /** `{ok, status, data}`; `data` is the parsed JSON body, or null. Network failures throw. */
  async send(method, path, body) {
    const response = await fetch(joinUrl(this.url, path), {
      method,
      headers: { "Content-Type": "application/json", "X-Session-Id": this.sessionId },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = null;
      }
    }
    return { ok: response.ok, status: response.status, data };
  }

  /** The parsed body of a 2xx answer; anything else throws a ProcessorError. */
  async call(method, path, body) {
    const answer = await this.send(method, path, body);
    if (!answer.ok) {
      const fallback = `${method} ${path} answered HTTP ${answer.status}`;
      throw new ProcessorError(errorMessage(answer.data, fallback), answer.status, answer.data);
    }
    return answer.data;
  }
}

let mountCount = 0;

/** A DOM id prefix unique in the document, so two components can be mounted on one page. */
function nextScope(prefix) {
  mountCount += 1;
  return `${prefix}-${mountCount}`;
}

/** A DOM element; `attrs` are attributes (`on*` functions become listeners); children are nodes or text. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) el.append(child);
  }
  return el;
}

function resolveTarget(selector) {
  const target = typeof selector === "string" ? document.querySelector(selector) : selector;
  if (!target) throw new Error(`No element matches ${selector}`);
  return target;
}

/** Adds `css` once per document, marked so that a host page can find and remove it. */
function injectStyles(name, css) {
  if (document.querySelector(`style[data-ctc-connector-styles="${name}"]`)) return;
  document.head.append(h("style", { "data-ctc-connector-styles": name }, css));
}

/** The start of every mount(): the target, the earlier mount removed, the CSS, a fresh id scope. */
function prepareMount(component, selector, prefix) {
  const target = resolveTarget(selector);
  component.unmount();
  injectStyles("sandbox", BASE_CSS);
  component.scope = nextScope(prefix);
  return target;
}

/** Calls `callback` (when given) and reports a throwing callback instead of losing it. */
function notify(callback, value) {
  if (typeof callback !== "function") return;
  try {
    callback(value);
  } catch (error) {
    console.error("connector enabler: a callback threw", error);
  }
}

const BASE_CSS = `
.ctc-form { display: grid; gap: .6rem; font: inherit; }
.ctc-field { display: grid; gap: .2rem; }
.ctc-field label { font-size: .85rem; color: #444; }
.ctc-field input { font: inherit; padding: .5rem .6rem; border: 1px solid #bbb; border-radius: 4px; }
.ctc-field input[aria-invalid="true"] { border-color: #c62828; }
.ctc-row { display: grid; grid-template-columns: 1fr 1fr; gap: .6rem; }
.ctc-error { color: #c62828; font-size: .85rem; min-height: 1em; }
.ctc-pay { font: inherit; padding: .6rem 1.2rem; border: 0; border-radius: 4px; background: #1a7f37; color: #fff; cursor: pointer; }
.ctc-note { color: #555; font-size: .9rem; margin: 0; }
`;
