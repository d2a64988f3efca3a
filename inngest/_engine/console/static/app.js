// The console's router: hash routes (#/runs/<id> can be shared), polling and keyboard keys.
import { h, replace, refreshTimes } from "./ui.js";
import * as runs from "./runs.js";
import * as run from "./run.js";
import * as eventsPage from "./events.js";
import * as functions from "./functions.js";
import * as apps from "./apps.js";

const POLL_MS = 1500;
const ROUTES = [
  [/^\/runs\/([^/]+)$/, run, "runs"],
  [/^\/runs$/, runs, "runs"],
  [/^\/events\/([^/]+)$/, eventsPage, "events"],
  [/^\/events$/, eventsPage, "events"],
  [/^\/functions$/, functions, "functions"],
  [/^\/apps$/, apps, "apps"],
];

let current = null;

// A page linked by path (/runs/<id>) moves to the same page by hash (/#/runs/<id>).
if (location.pathname !== "/" && !location.hash) {
  history.replaceState(null, "", `/#${location.pathname}${location.search}`);
}

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/runs";
  const [path, search] = raw.split("?");
  return { path: path.replace(/\/+$/, "") || "/runs", params: new URLSearchParams(search || "") };
}

async function route() {
  if (current && current.stop) current.stop();
  const { path, params } = parseHash();
  const view = document.getElementById("view");
  const found = ROUTES.map(([pattern, page, nav]) => [path.match(pattern), page, nav])
    .find(([match]) => match);
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", Boolean(found) && link.dataset.page === found[2]);
    if (found && link.dataset.page === found[2]) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!found) {
    replace(view, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/runs" }, "Go to runs")));
    current = null;
    return;
  }
  const [match, page] = found;
  const token = {};
  current = token;
  let handle;
  try {
    handle = await page.render(view, decodeURIComponent(match[1] || ""), params);
  } catch (err) {
    if (current === token) {
      replace(view, h("h1", {}, "Could not load this page"),
        h("p", { class: "error-text", id: "page-error" }, err.message),
        h("p", {}, h("a", { href: "#/runs" }, "Go to runs")));
    }
    return;
  }
  if (current !== token) {
    if (handle && handle.stop) handle.stop();
    return;
  }
  current = { ...handle, token };
  if (handle && handle.poll) {
    const timer = setInterval(async () => {
      if (current && current.token === token && !document.hidden) {
        try {
          await handle.poll();
        } catch (err) {
          console.warn("refresh failed", err);
        }
      }
    }, POLL_MS);
    current.stop = () => {
      clearInterval(timer);
      if (handle.stop) handle.stop();
    };
  }
}

function search(event) {
  event.preventDefault();
  const input = document.getElementById("search-input");
  const id = input.value.trim();
  if (!id) return;
  input.value = "";
  input.blur();
  location.hash = `#/find/${encodeURIComponent(id)}`;
}

// Runs and events share the id space (ULIDs): ask which one it is.
async function find(id) {
  const { gql } = await import("./api.js");
  const view = document.getElementById("view");
  try {
    const data = await gql("query Find($id: String!) { run(runID: $id) { id } }", { id });
    if (data.run) {
      location.replace(`#/runs/${encodeURIComponent(id)}`);
      return;
    }
  } catch {
    // not a run
  }
  try {
    await gql("query Find($id: ULID!) { eventV2(id: $id) { id } }", { id });
    location.replace(`#/events/${encodeURIComponent(id)}`);
  } catch {
    replace(view, h("h1", {}, "Nothing found"),
      h("p", {}, "No run and no event has the id ", h("code", {}, id), "."));
  }
}

function onHash() {
  const { path } = parseHash();
  const match = path.match(/^\/find\/(.+)$/);
  if (match) {
    if (current && current.stop) current.stop();
    current = null;
    find(decodeURIComponent(match[1]));
  } else {
    route();
  }
}

// Keyboard: "/" searches, "g" then a letter changes page, j/k walk a list, Esc goes back.
let pendingG = false;
function onKey(event) {
  const target = event.target;
  const typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
  if (event.key === "Escape") {
    if (typing) target.blur();
    else if (current && current.back) location.hash = current.back;
    return;
  }
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  if (pendingG) {
    pendingG = false;
    const pages = { r: "#/runs", e: "#/events", f: "#/functions", a: "#/apps" };
    if (pages[event.key]) {
      location.hash = pages[event.key];
      event.preventDefault();
    }
    return;
  }
  if (event.key === "/") {
    event.preventDefault();
    document.getElementById("search-input").focus();
  } else if (event.key === "g") {
    pendingG = true;
    setTimeout(() => { pendingG = false; }, 1200);
  } else if (event.key === "j" || event.key === "k") {
    moveInList(event.key === "j" ? 1 : -1);
  }
}

function moveInList(step) {
  const rows = [...document.querySelectorAll("[data-nav-row]")];
  if (!rows.length) return;
  const index = rows.indexOf(document.activeElement);
  const next = rows[Math.max(0, Math.min(rows.length - 1, index + step))];
  next.focus();
}

document.getElementById("search").addEventListener("submit", search);
document.addEventListener("keydown", onKey);
window.addEventListener("hashchange", onHash);
setInterval(() => refreshTimes(), 10000);
onHash();
