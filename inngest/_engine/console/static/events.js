// Events: a form to send one, the live stream, and one event with its runs and a replay.
import { gql, sendEvent } from "./api.js";
import { h, replace, when, statusBadge, jsonView, parseJSON, button, busy, flash } from "./ui.js";

const EVENTS = `
query Events { events(query: {}) {
  id name createdAt status functionRuns { id status function { name } }
} }`;
const EVENT = `
query Event($id: ULID!) { eventV2(id: $id) {
  id name receivedAt occurredAt raw runs { id status startedAt function { name } }
} }`;

export async function render(view, eventId) {
  return eventId ? renderEvent(view, eventId) : renderList(view);
}

async function renderList(view) {
  const body = h("tbody", { id: "events-body" });
  replace(view,
    h("div", { class: "page-head" }, h("h1", {}, "Events")),
    sendForm(),
    h("table", { class: "list events" },
      h("thead", {}, h("tr", {}, ["Event", "Time", "Runs"].map((t) => h("th", {}, t)))),
      body));
  let shown = "";
  async function poll() {
    // The dev server's API answers null, not [], while no event is stored.
    const events = (await gql(EVENTS)).events || [];
    if (JSON.stringify(events) === shown) return;
    shown = JSON.stringify(events);
    replace(body, events.length ? events.map(eventRow)
      : h("tr", {}, h("td", { colspan: 3, class: "empty" }, "No events yet. Send one above.")));
  }
  await poll();
  return { poll };
}

function eventRow(event) {
  const href = `#/events/${event.id}`;
  return h("tr", {
    class: "clickable", tabindex: 0, "data-nav-row": 1, "data-event-id": event.id,
    onclick: (e) => { if (!e.target.closest("a")) location.hash = href; },
    onkeydown: (e) => { if (e.key === "Enter") location.hash = href; },
  },
  h("td", {}, h("a", { href, tabindex: -1, class: "fn-name" }, event.name),
    h("div", { class: "sub mono" }, event.id)),
  h("td", {}, when(event.createdAt)),
  h("td", {}, runLinks(event.functionRuns)));
}

function runLinks(runs) {
  if (!runs || !runs.length) return h("span", { class: "muted no-match" }, "no function matched");
  return h("ul", { class: "run-links" }, runs.map((run) => h("li", {},
    h("a", { href: `#/runs/${run.id}` }, run.function ? run.function.name : run.id), " ",
    statusBadge(run.status))));
}

function sendForm(initial = { name: "", data: "{}" }) {
  const name = h("input", { id: "send-name", name: "name", required: true, value: initial.name,
    placeholder: "app/user.signup", autocomplete: "off", spellcheck: "false" });
  const data = h("textarea", { id: "send-data", name: "data", rows: 5, spellcheck: "false" });
  data.value = initial.data;
  const problem = h("div", { class: "error-text", id: "send-problem", role: "alert" });
  const send = h("button", { type: "submit", id: "send-event", class: "primary" }, "Send event");
  let touched = false;
  function check() {
    const parsed = parseJSON(data.value.trim() || "{}");
    let message = "";
    if (parsed.error) message = `Data is not valid JSON: ${parsed.error}`;
    else if (parsed.value === null || typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
      message = "Data must be a JSON object, like {\"id\": 1}";
    } else if (!name.value.trim()) message = "The event needs a name";
    problem.textContent = touched ? message : "";
    send.disabled = Boolean(message);
    data.setAttribute("aria-invalid", parsed.error ? "true" : "false");
    return message ? null : parsed.value;
  }
  for (const field of [name, data]) {
    field.addEventListener("input", () => { touched = true; check(); });
  }
  const form = h("form", {
    class: "card send-form", "aria-label": "Send an event",
    onsubmit: async (event) => {
      event.preventDefault();
      const value = check();
      if (value === null) return;
      await busy(send, async () => {
        const [id] = await sendEvent({ name: name.value.trim(), data: value });
        flash(h("span", {}, "Event sent: ", h("a", { href: `#/events/${id}` }, id)));
      });
      check();
    },
  },
  h("h2", {}, "Send an event"),
  h("div", { class: "row" }, h("label", { for: "send-name" }, "Name"), name),
  h("div", { class: "row" }, h("label", { for: "send-data" }, "Data (JSON)"), data),
  problem, h("div", { class: "actions" }, send));
  check();
  return form;
}

async function renderEvent(view, eventId) {
  const box = h("div", {});
  replace(view, h("nav", { class: "crumbs" }, h("a", { href: "#/events" }, "Events")), box);
  let shown = "";
  async function poll() {
    const { eventV2: event } = await gql(EVENT, { id: eventId });
    if (JSON.stringify(event) === shown) return;
    shown = JSON.stringify(event);
    const raw = JSON.parse(event.raw);
    const replay = button("Replay", (e) => busy(e.target, async () => {
      const copy = { name: raw.name, data: raw.data || {} };
      if (raw.user) copy.user = raw.user;
      const [id] = await sendEvent(copy);
      flash("Event replayed");
      location.hash = `#/events/${id}`;
    }), { id: "replay", title: "Send the same name and data again, as a new event" });
    replace(box,
      h("div", { class: "title-row" }, h("h1", {}, event.name), h("div", { class: "actions" }, replay)),
      h("div", { class: "meta" },
        h("div", { class: "meta-item" }, h("span", { class: "label" }, "Event"), h("code", {}, event.id)),
        h("div", { class: "meta-item" }, h("span", { class: "label" }, "Received"), when(event.receivedAt))),
      h("section", { class: "card" }, h("h2", {}, "Runs"), runLinks(event.runs)),
      h("section", { class: "card" }, h("h2", {}, "Payload"), jsonView(raw)));
  }
  await poll();
  return { poll, back: "#/events" };
}
