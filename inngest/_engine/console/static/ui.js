// Small DOM and formatting helpers shared by the pages.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "style") setStyle(node, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  append(node, children);
  return node;
}

// Through the CSSOM: the console's Content-Security-Policy refuses inline style attributes.
function setStyle(node, text) {
  for (const declaration of text.split(";")) {
    const [property, value] = declaration.split(":");
    if (property && value) node.style.setProperty(property.trim(), value.trim());
  }
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function ms(iso) {
  return iso ? Date.parse(iso) : null;
}

export function absolute(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// A short local time: the time of day for today, the date as well otherwise.
export function clock(iso) {
  if (!iso) return "";
  const full = absolute(iso);
  const today = absolute(new Date().toISOString()).slice(0, 10);
  return full.startsWith(today) ? full.slice(11) : full.slice(0, 19);
}

export function relative(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = Math.round((now - ms(iso)) / 1000);
  const future = seconds < 0;
  const s = Math.abs(seconds);
  let text;
  if (s < 5) return future ? "in a moment" : "just now";
  if (s < 60) text = `${s}s`;
  else if (s < 3600) text = `${Math.floor(s / 60)}m`;
  else if (s < 86400) text = `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  else text = `${Math.floor(s / 86400)}d`;
  return future ? `in ${text}` : `${text} ago`;
}

// A time as "3m ago", with the exact local time in the tooltip and for screen readers.
export function when(iso) {
  if (!iso) return h("span", { class: "muted", text: "—" });
  return h("time", { datetime: iso, title: absolute(iso), "data-rel": "1" }, relative(iso));
}

export function duration(millis) {
  if (millis === null || millis === undefined || Number.isNaN(millis)) return "—";
  if (millis < 1000) return `${Math.round(millis)}ms`;
  if (millis < 60000) return `${(millis / 1000).toFixed(millis < 10000 ? 2 : 1)}s`;
  const minutes = Math.floor(millis / 60000);
  if (minutes < 60) return `${minutes}m ${Math.round((millis % 60000) / 1000)}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

const STATUS_LABELS = {
  QUEUED: "Queued", SCHEDULED: "Queued", RUNNING: "Running", WAITING: "Waiting",
  COMPLETED: "Completed", FAILED: "Failed", CANCELLED: "Cancelled", SKIPPED: "Skipped",
  NO_FUNCTIONS: "No function", PARTIALLY_FAILED: "Partly failed",
};

export function statusBadge(status) {
  const key = String(status || "").toUpperCase();
  return h("span", { class: `badge s-${key.toLowerCase()}`, "data-status": key },
    STATUS_LABELS[key] || status || "Unknown");
}

export function isEnded(status) {
  return ["COMPLETED", "FAILED", "CANCELLED", "SKIPPED"].includes(String(status).toUpperCase());
}

// Formatted JSON; objects and arrays past FOLD_CHARS characters start folded.
const FOLD_CHARS = 600;

export function jsonView(value) {
  return h("pre", { class: "json" }, jsonNode(value, 0, ""));
}

function jsonNode(value, depth, indent) {
  if (value === null || typeof value !== "object") {
    const kind = value === null ? "null" : typeof value;
    return h("span", { class: `j-${kind}` }, JSON.stringify(value));
  }
  const isArray = Array.isArray(value);
  const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
  const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
  if (!entries.length) return `${open}${close}`;
  const inner = indent + "  ";
  const body = [];
  entries.forEach(([key, child], index) => {
    body.push("\n", inner);
    if (!isArray) body.push(h("span", { class: "j-key" }, JSON.stringify(key)), ": ");
    body.push(jsonNode(child, depth + 1, inner));
    if (index < entries.length - 1) body.push(",");
  });
  body.push("\n", indent, close);
  const size = JSON.stringify(value).length;
  const full = h("span", {}, open, ...body);
  if (depth === 0 || size <= FOLD_CHARS) return full;
  const label = isArray ? `${entries.length} items` : `${entries.length} keys`;
  const fold = h("button", {
    type: "button", class: "fold", title: "Show all",
    onclick: () => fold.replaceWith(full),
  }, `${open} … ${close}`, h("span", { class: "muted" }, ` ${label}, ${size} chars`));
  return fold;
}

export function parseJSON(text) {
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { error: err.message };
  }
}

export function flash(message, kind = "ok") {
  const box = document.getElementById("flash");
  replace(box, h("div", { class: `flash ${kind}` }, message));
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => box.replaceChildren(), kind === "error" ? 8000 : 4000);
}

export function button(label, onclick, attrs = {}) {
  return h("button", { type: "button", onclick, ...attrs }, label);
}

// Runs an action of a button, disabling it meanwhile and reporting a failure.
export async function busy(node, action) {
  node.disabled = true;
  try {
    return await action();
  } catch (err) {
    flash(err.message, "error");
    return undefined;
  } finally {
    node.disabled = false;
  }
}

export function refreshTimes(root = document) {
  for (const node of root.querySelectorAll("time[data-rel]")) {
    node.textContent = relative(node.getAttribute("datetime"));
  }
}
