// Functions, grouped by app: triggers, flow control, retries, and an invoke form.
import { gql } from "./api.js";
import { h, replace, jsonView, parseJSON, busy, flash } from "./ui.js";

const FUNCTIONS = `
query Functions { apps {
  id name url
  functions { id name slug config triggers { type value condition } }
} }`;
const FLOW = [
  ["concurrency", "Concurrency"], ["throttle", "Throttle"], ["rateLimit", "Rate limit"],
  ["debounce", "Debounce"], ["batchEvents", "Batch"], ["priority", "Priority"],
  ["singleton", "Singleton"], ["cancel", "Cancel on"],
  ["timeouts", "Timeouts"],
];

export async function render(view, _id, params) {
  const { apps } = await gql(FUNCTIONS);
  const withFunctions = apps.filter((app) => app.functions.length);
  replace(view,
    h("div", { class: "page-head" }, h("h1", {}, "Functions")),
    withFunctions.length ? withFunctions.map(appSection)
      : h("p", { class: "empty" }, "No functions. Add your app on the ",
        h("a", { href: "#/apps" }, "Apps"), " page."));
  const focus = params.get("app");
  if (focus) {
    const node = document.getElementById(`app-${focus}`);
    if (node) node.scrollIntoView();
  }
  return {};
}

function appSection(app) {
  return h("section", { class: "app-functions", id: `app-${app.id}` },
    h("h2", {}, app.name, " ", h("span", { class: "muted small" }, app.url)),
    h("div", { class: "cards" }, app.functions.map(functionCard)));
}

function functionCard(fn) {
  // The dev server's record of the function: steps listed, limits with their scope.
  const config = JSON.parse(fn.config || "{}");
  const retries = (((config.steps || [])[0] || {}).retries || {}).attempts;
  const flow = FLOW.filter(([key]) => config[key] !== undefined && config[key] !== null);
  return h("article", { class: "card fn-card", "data-slug": fn.slug },
    h("div", { class: "title-row" }, h("h3", {}, fn.name),
      h("a", { href: `#/runs?function=${encodeURIComponent(fn.id)}`, class: "small" }, "runs →")),
    h("div", { class: "sub mono" }, fn.slug),
    h("dl", { class: "facts" },
      h("dt", {}, "Triggers"),
      h("dd", {}, (fn.triggers || []).length ? fn.triggers.map((t) => h("div", { class: "trigger" },
        t.type === "CRON" ? `cron ${t.value}` : t.value, t.condition ? ` if ${t.condition}` : ""))
        : h("span", { class: "muted" }, "invoke only")),
      h("dt", {}, "Retries"), h("dd", {}, retries === undefined ? "4 (default)" : String(retries)),
      flow.map(([key, label]) => [h("dt", {}, label), h("dd", {},
        key === "concurrency" ? concurrencyText(config[key]) : flowText(config[key]))])),
    invokeForm(fn));
}

// "5 at a time", "1 at a time per event.data.user (account)": limits, not raw JSON.
function concurrencyText(value) {
  const limits = Array.isArray(value) ? value : [value];
  if (!limits.every((c) => c && typeof c === "object" && typeof c.limit === "number")) {
    return flowText(value);
  }
  return limits.map((c) => h("div", { class: "concurrency" }, `${c.limit} at a time`,
    c.key ? [" per ", h("code", {}, c.key)] : "",
    c.scope && c.scope !== "Fn" ? ` (${c.scope.toLowerCase()})` : ""));
}

function flowText(value) {
  if (!value || typeof value !== "object") return String(value);
  const text = JSON.stringify(value);
  return text.length <= 70 ? h("code", {}, text) : jsonView(value);
}

function invokeForm(fn) {
  const data = h("textarea", { rows: 3, spellcheck: "false", class: "invoke-data",
    "aria-label": `Data for ${fn.name}` });
  data.value = "{}";
  const problem = h("div", { class: "error-text", role: "alert" });
  const go = h("button", { type: "submit", class: "primary invoke" }, "Invoke");
  const check = () => {
    const parsed = parseJSON(data.value.trim() || "{}");
    const bad = parsed.error ? `Not valid JSON: ${parsed.error}`
      : (parsed.value === null || typeof parsed.value !== "object" || Array.isArray(parsed.value)
        ? "Data must be a JSON object" : "");
    problem.textContent = bad;
    go.disabled = Boolean(bad);
    return bad ? null : parsed.value;
  };
  data.addEventListener("input", check);
  return h("details", { class: "invoke-box" }, h("summary", {}, "Invoke with data…"),
    h("form", {
      onsubmit: async (event) => {
        event.preventDefault();
        const value = check();
        if (value === null) return;
        await busy(go, async () => {
          await gql("mutation Invoke($slug: String!, $data: Map) { invokeFunction(functionSlug: $slug, data: $data) }",
            { slug: fn.slug, data: value });
          flash(h("span", {}, `Invoked ${fn.name}: `,
            h("a", { href: `#/runs?function=${encodeURIComponent(fn.id)}` }, "see its runs")));
          location.hash = `#/runs?function=${encodeURIComponent(fn.id)}`;
        });
      },
    }, data, problem, h("div", { class: "actions" }, go)));
}
