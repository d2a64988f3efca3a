// Apps: where they are served, their SDK, whether they synced (and why not); add, resync, remove.
import { ApiError, gql } from "./api.js";
import { h, replace, busy, flash, button } from "./ui.js";

const APPS = `
query Apps { apps {
  id name url error sdkLanguage sdkVersion framework appVersion functionCount
} }`;
const CREATE = "mutation Add($url: String!) { createApp(input: {url: $url}) { id name error } }";
// Sync the app at `url`: its name, or why it did not sync. As on the dev server, a sync that
// fails answers createApp with a GraphQL error (the app is listed all the same).
async function sync(url) {
  try {
    const { createApp } = await gql(CREATE, { url });
    return { name: createApp.name, error: createApp.error };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { name: url, error: err.message };
  }
}

// What the engine's short error codes mean for the person reading them.
const REASONS = {
  unreachable: "The engine could not connect to this URL. Is the app running and serving there?",
  unsupported_protocol: "The URL answered in another protocol (https vs http?).",
  url_not_found: "The URL answered 404: check the path the app serves Inngest at.",
  unauthorized: "The app refused the engine's request (signature): check INNGEST_SIGNING_KEY.",
  forbidden: "The app refused the engine's request (403).",
  internal_server_error: "The app answered 500 while syncing: see the app's logs.",
  no_functions: "The app serves no functions: pass them to its serve handler.",
  invalid_function: "The app reported an invalid function: see the app's logs.",
  invalid_signing_key: "The app's signing key does not match the engine's.",
};

export async function render(view) {
  const list = h("div", { class: "cards", id: "apps-list" });
  const url = h("input", { id: "app-url", type: "url", required: true, autocomplete: "off",
    placeholder: "http://127.0.0.1:8000/api/inngest", "aria-label": "App URL" });
  const add = h("button", { type: "submit", class: "primary", id: "add-app" }, "Add app");
  replace(view,
    h("div", { class: "page-head" }, h("h1", {}, "Apps")),
    h("form", {
      class: "card add-app", onsubmit: async (event) => {
        event.preventDefault();
        await busy(add, async () => {
          const synced = await sync(url.value.trim());
          flash(synced.error ? `Added, but the app did not sync: ${synced.error}`
            : `Synced ${synced.name}`, synced.error ? "error" : "ok");
          url.value = "";
          await poll();
        });
      },
    }, h("h2", {}, "Add an app"), h("div", { class: "row inline" }, url, add)),
    list);
  let shown = "";
  async function poll() {
    const { apps } = await gql(APPS);
    // Redraw only on a change, so a focused button or a selection survives the refresh.
    if (JSON.stringify(apps) === shown) return;
    shown = JSON.stringify(apps);
    replace(list, apps.length ? apps.map((app) => appCard(app, poll))
      : h("p", { class: "empty" }, "No apps yet. Add your app's serve URL above, or start the engine with -u URL."));
  }
  await poll();
  return { poll };
}

function appCard(app, refresh) {
  const synced = !app.error;
  const sdk = app.sdkLanguage ? `${app.sdkLanguage} ${app.sdkVersion}` : "unknown";
  return h("article", { class: `card app-card ${synced ? "ok" : "bad"}`, "data-url": app.url,
    "data-app-id": app.id },
  h("div", { class: "title-row" }, h("h3", {}, breakable(app.name)),
    h("span", { class: `badge ${synced ? "s-completed" : "s-failed"} sync-status` },
      synced ? "Synced" : "Not synced")),
  h("dl", { class: "facts" },
    h("dt", {}, "URL"), h("dd", {}, h("code", {}, app.url)),
    h("dt", {}, "SDK"), h("dd", {}, sdk, app.framework ? ` · ${app.framework}` : ""),
    app.appVersion ? [h("dt", {}, "Version"), h("dd", {}, app.appVersion)] : null,
    h("dt", {}, "Functions"), h("dd", {}, h("a", { href: `#/functions?app=${app.id}` },
      String(app.functionCount)))),
  synced ? null : h("div", { class: "error-box sync-error" },
    h("div", { class: "error-title" }, h("span", { class: "error-name" }, app.error)),
    REASONS[app.error] ? h("div", { class: "reason" }, REASONS[app.error]) : null),
  h("div", { class: "actions" },
    button("Resync", (event) => busy(event.target, async () => {
      const synced = await sync(app.url);
      flash(synced.error ? `Sync failed: ${synced.error}` : `Synced ${synced.name}`,
        synced.error ? "error" : "ok");
      await refresh();
    }), { class: "resync" }),
    button("Remove", (event) => busy(event.target, async () => {
      if (!window.confirm(`Remove ${app.name}? Its functions stop running.`)) return;
      await gql("mutation Remove($id: String!) { deleteApp(id: $id) }", { id: app.id });
      flash(`Removed ${app.name}`);
      await refresh();
    }), { class: "danger remove" })));
}

// A name that is a URL (an app never synced) may wrap after its slashes.
function breakable(text) {
  return text.split("/").flatMap((part, i) => (i ? ["/", h("wbr"), part] : [part]));
}
