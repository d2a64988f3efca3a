// Runs: newest first, refreshed while open, filtered by status, function, app and time.
import { gql } from "./api.js";
import { h, replace, when, duration, statusBadge, ms, isEnded } from "./ui.js";

const PAGE = 50;
const LARGEST_PAGE = 399; // the server answers 40 runs when asked for 400 or more
const STATUSES = ["QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"];
const RANGES = { "15m": 15 * 60e3, "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3 };
const RUNS = `
query Runs($first: Int!, $filter: RunsFilterV2!) {
  runs(first: $first, filter: $filter, orderBy: [{field: QUEUED_AT, direction: DESC}]) {
    totalCount
    edges { node {
      id status queuedAt startedAt endedAt eventName cronSchedule triggerIDs isBatch
      function { name slug } app { id name }
    } }
  }
}`;
const CHOICES = "query Choices { apps { id name functions { id name slug } } }";

export async function render(view, _id, params) {
  const filter = {
    status: params.get("status") || "", function: params.get("function") || "",
    app: params.get("app") || "", range: params.get("range") || "",
    from: params.get("from") || "", until: params.get("until") || "",
  };
  const custom = filter.range === "custom";
  const { apps } = await gql(CHOICES);
  const functions = apps.flatMap((app) => app.functions.map((fn) => ({ ...fn, app })));
  const count = h("span", { class: "muted", id: "run-count" });
  const body = h("tbody", { id: "runs-body" });
  let limit = PAGE;
  const more = h("button", { type: "button", id: "more-runs", hidden: true,
    onclick: async () => { limit = Math.min(limit + PAGE, LARGEST_PAGE); await poll(); } }, `Show ${PAGE} more`);
  const change = (key) => (event) => {
    const next = new URLSearchParams({ ...filter, [key]: event.target.value });
    if (next.get("range") !== "custom") { next.delete("from"); next.delete("until"); }
    for (const [name, value] of [...next]) if (!value) next.delete(name);
    const query = next.toString();
    location.hash = `#/runs${query ? `?${query}` : ""}`;
  };
  const select = (key, label, options) => h("label", {}, label,
    h("select", { name: key, onchange: change(key) },
      h("option", { value: "" }, "All"),
      options.map(([value, text]) => h("option", { value, selected: value === filter[key] }, text))));
  replace(view,
    h("div", { class: "page-head" }, h("h1", {}, "Runs"), count),
    h("div", { class: "filters" },
      select("status", "Status", STATUSES.map((s) => [s, s[0] + s.slice(1).toLowerCase()])),
      select("function", "Function", functions.map((fn) => [fn.id, fn.name])),
      select("app", "App", apps.map((app) => [app.id, app.name])),
      select("range", "Queued in", [...Object.keys(RANGES).map((r) => [r, `last ${r}`]),
        ["custom", "custom range…"]]),
      custom ? h("span", { class: "custom-range" }, moment("from", "From"), moment("until", "until"))
        : null),
    h("table", { class: "list runs" },
      h("thead", {}, h("tr", {},
        ["Function", "Status", "Trigger", "Started", "Duration"].map((t) => h("th", {}, t)))),
      body),
    h("div", { class: "more" }, more));

  // A local date and time (the input's own format), kept in the link as typed.
  function moment(key, label) {
    return h("label", {}, label, h("input", { type: "datetime-local", name: key, step: 1,
      value: filter[key], onchange: change(key) }));
  }

  let drawn = "";
  async function poll() {
    // `from` is required: without a range, every run since the epoch.
    const variables = { first: limit, filter: { from: new Date(0).toISOString() } };
    if (filter.status) variables.filter.status = [filter.status];
    if (filter.function) variables.filter.functionIDs = [filter.function];
    if (filter.app) variables.filter.appIDs = [filter.app];
    if (RANGES[filter.range]) {
      variables.filter.from = new Date(Date.now() - RANGES[filter.range]).toISOString();
    }
    for (const key of custom ? ["from", "until"] : []) {
      const at = new Date(filter[key]);
      if (filter[key] && !Number.isNaN(at.getTime())) variables.filter[key] = at.toISOString();
    }
    const { runs } = await gql(RUNS, variables);
    // Unchanged and all ended: nothing to redraw (live durations need the redraw).
    const key = JSON.stringify(runs);
    if (key === drawn && runs.edges.every(({ node }) => isEnded(node.status))) return;
    drawn = key;
    const shown = runs.edges.length;
    more.hidden = runs.totalCount <= shown || limit >= LARGEST_PAGE;
    count.textContent = runs.totalCount > shown ? `newest ${shown} of ${runs.totalCount}`
      : `${runs.totalCount} run${runs.totalCount === 1 ? "" : "s"}`;
    const rows = runs.edges.map(({ node }) => row(node));
    const focused = document.activeElement && document.activeElement.dataset.runId;
    const filtered = Object.values(filter).some(Boolean);
    replace(body, rows.length ? rows
      : h("tr", {}, h("td", { colspan: 5, class: "empty" }, filtered
        ? ["No runs match these filters. ", h("a", { href: "#/runs", id: "clear-filters" },
          "Show all runs")]
        : ["No runs yet. Send an event from ", h("a", { href: "#/events" }, "Events"),
          " or invoke a function from ", h("a", { href: "#/functions" }, "Functions"), "."])));
    if (focused) {
      const again = body.querySelector(`[data-run-id="${focused}"]`);
      if (again) again.focus();
    }
  }
  await poll();
  return { poll };
}

function trigger(run) {
  if (run.cronSchedule) return h("span", { class: "trigger cron" }, `cron ${run.cronSchedule}`);
  if (!run.eventName) return h("span", { class: "muted" }, "—");
  const label = run.isBatch ? `${run.eventName} ×${run.triggerIDs.length}` : run.eventName;
  return h("span", { class: "trigger" }, label);
}

function row(run) {
  const start = ms(run.startedAt);
  const end = run.endedAt ? ms(run.endedAt) : (isEnded(run.status) ? null : Date.now());
  const took = start && end ? end - start : null;
  const href = `#/runs/${run.id}`;
  const fn = run.function ? run.function.name : "(removed function)";
  return h("tr", {
    tabindex: 0, "data-nav-row": 1, "data-run-id": run.id, class: "clickable",
    onclick: (event) => { if (!event.target.closest("a")) location.hash = href; },
    onkeydown: (event) => { if (event.key === "Enter") location.hash = href; },
  },
  h("td", {}, h("a", { href, class: "fn-name", tabindex: -1 }, fn),
    h("div", { class: "sub mono" }, run.id, run.app ? ` · ${run.app.name}` : "")),
  h("td", {}, statusBadge(run.status)),
  h("td", {}, trigger(run)),
  h("td", {}, when(run.startedAt || run.queuedAt)),
  h("td", { class: "num" }, took === null ? "—" : duration(took)));
}
