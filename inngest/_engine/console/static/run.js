// One run: header and actions, a waterfall of its steps, the selected step's details,
// and the event(s) that triggered it.
import { gql } from "./api.js";
import {
  h, replace, when, duration, statusBadge, ms, isEnded, absolute, clock, jsonView, button, busy,
  flash,
} from "./ui.js";

const RUN = `
query Run($id: String!) {
  run(runID: $id) {
    id status queuedAt startedAt endedAt cronSchedule
    function { name slug } app { id name }
    trace { ...S childrenSpans { ...S childrenSpans { ...S } } }
  }
  runTrigger(runID: $id) { payloads IDs eventName timestamp cron isBatch }
}
fragment S on RunTraceSpan {
  spanID functionID stepID name status stepOp attempts queuedAt startedAt endedAt duration outputID
  isRoot
  stepInfo {
    __typename
    ... on SleepStepInfo { sleepUntil }
    ... on WaitForEventStepInfo { eventName expression timeout foundEventID timedOut }
    ... on InvokeStepInfo { functionID timeout runID timedOut }
  }
}`;
const CANCELLED_BY = `
query CancelledBy($id: ID!) { functionRun(query: {functionRunId: $id}) { cancellationReason } }`;
// Why a run was skipped is on its span as stored; the page's tree has no reason.
const SKIPPED_BY = `
query SkippedBy($id: String!) { runTrace(runID: $id) { skipReason skipExistingRunID } }`;
const SKIP_REASONS = {
  Singleton: "another run of this singleton was in progress",
  FunctionPaused: "the function was paused",
};
const RERUN_FROM = `
mutation RerunFrom($id: ULID!, $from: RerunFromStepInput) { rerun(runID: $id, fromStep: $from) }`;
const OUTPUT = `
query Output($id: String!) {
  runTraceSpanOutputByID(outputID: $id) { data error { name message stack cause } }
}`;
// The function's own calls (outside any step), named as the Inngest server names them.
const FN_NOTES = {
  "function success": "the call that returned the function's result",
  execute: "the function's own code, outside any step",
  "function error": "the call whose error failed the run, with no retries left",
  "Queued step": "the next call, waiting in the queue",
};
const OPS = { RUN: "step", SLEEP: "sleep", WAIT_FOR_EVENT: "wait", INVOKE: "invoke",
  WAIT_FOR_SIGNAL: "signal", AI_GATEWAY: "ai" };

export async function render(view, runId) {
  const outputs = new Map();
  let selected = null;
  let data = null;
  let detailsKey = "";
  const head = h("div", { class: "run-head" });
  const timeline = h("div", { class: "timeline", role: "list", "aria-label": "Timeline" });
  const details = h("div", { class: "details card", "aria-live": "polite" });
  const triggerBox = h("div", { class: "card trigger-box" });
  replace(view,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumbs" }, h("a", { href: "#/runs" }, "Runs")),
    head,
    h("div", { class: "run-grid" },
      h("section", { class: "card" }, h("h2", {}, "Timeline"), timeline),
      details),
    triggerBox);

  async function output(id) {
    if (!outputs.has(id)) {
      outputs.set(id, gql(OUTPUT, { id }).then((d) => d.runTraceSpanOutputByID)
        .catch((err) => ({ failure: err.message })));
    }
    return outputs.get(id);
  }

  async function load() {
    const fresh = await gql(RUN, { id: runId });
    if (fresh.run.status === "CANCELLED") {
      fresh.functionRun = (await gql(CANCELLED_BY, { id: runId })).functionRun;
    } else if (fresh.run.status === "SKIPPED") {
      fresh.skipped = (await gql(SKIPPED_BY, { id: runId })).runTrace;
      // The page's tree shows a skipped run's span as running (as the dev server does).
      fresh.run.trace = { ...fresh.run.trace, status: "SKIPPED" };
    }
    if (!isEnded(fresh.run.status)) {
      // A live run's outputs (the run's, say) may still appear.
      for (const key of [...outputs.keys()]) outputs.delete(key);
    }
    data = fresh;
    const spans = flatten(data.run.trace);
    if (!selected || !spans.some((s) => s.span.spanID === selected)) {
      selected = data.run.trace.spanID;
    }
    renderHead();
    renderTimeline(spans);
    const span = spans.find((s) => s.span.spanID === selected).span;
    const key = JSON.stringify([span.spanID, span.status, span.outputID, span.endedAt,
      (span.childrenSpans || []).map((c) => [c.status, c.outputID])]);
    if (key !== detailsKey) {
      detailsKey = key;
      await renderDetails(span);
    }
    if (!triggerBox.childElementCount) renderTrigger();
  }

  function renderHead() {
    const { run, functionRun, skipped } = data;
    const actions = [];
    if (!isEnded(run.status)) {
      actions.push(button("Cancel", (event) => busy(event.target, async () => {
        await gql("mutation Cancel($id: ULID!) { cancelRun(runID: $id) { id status } }",
          { id: run.id });
        flash("Run cancelled");
        await load();
      }), { id: "cancel-run", class: "danger" }));
    }
    actions.push(button("Rerun", (event) => busy(event.target, async () => {
      const answer = await gql("mutation Rerun($id: ULID!) { rerun(runID: $id) }", { id: run.id });
      flash("Rerun started");
      location.hash = `#/runs/${answer.rerun}`;
    }), { id: "rerun", title: "Start a new run from the same event" }));
    const started = ms(run.startedAt);
    const end = run.endedAt ? ms(run.endedAt) : Date.now();
    const fnName = run.function ? run.function.name : "(removed function)";
    replace(head,
      h("div", { class: "title-row" },
        h("h1", {}, fnName), h("span", { id: "run-status" }, statusBadge(run.status)),
        h("div", { class: "actions" }, actions)),
      h("div", { class: "meta" },
        meta("Run", h("code", { class: "copy", title: "Run id" }, run.id)),
        run.app ? meta("App", h("a", { href: `#/functions?app=${run.app.id}` }, run.app.name)) : null,
        run.function ? meta("Function", h("a", {
          href: `#/runs?function=${encodeURIComponent(fnId(run))}` }, run.function.slug)) : null,
        meta("Queued", stamp(run.queuedAt)),
        meta("Started", stamp(run.startedAt)),
        meta("Ended", stamp(run.endedAt)),
        meta("Duration", started && !skipped ? duration(end - started) : "—"),
        functionRun && functionRun.cancellationReason
          ? meta("Cancelled by", functionRun.cancellationReason) : null,
        skipped ? meta("Skipped", h("span", { id: "skip-reason" },
          SKIP_REASONS[skipped.skipReason] || skipped.skipReason || "—")) : null,
        skipped && skipped.skipExistingRunID ? meta("Run in progress", h("a", {
          id: "skip-existing", href: `#/runs/${skipped.skipExistingRunID}` },
        skipped.skipExistingRunID)) : null));
  }

  function fnId(run) {
    return run.trace && run.trace.functionID ? run.trace.functionID : "";
  }

  function renderTimeline(spans) {
    const root = data.run.trace;
    const t0 = ms(root.queuedAt) || ms(root.startedAt) || Date.now();
    let t1 = ms(root.endedAt) || Date.now();
    for (const { span } of spans) t1 = Math.max(t1, ms(span.endedAt) || 0);
    const total = Math.max(t1 - t0, 1);
    const ticks = h("div", { class: "ticks", "aria-hidden": "true" },
      [0, 25, 50, 75, 100].map((p) => h("span", { style: `left:${p}%` },
        p === 0 ? "0" : duration(total * p / 100))));
    const rows = spans.map(({ span, depth }) => spanRow(span, depth, t0, total));
    const focused = timeline.contains(document.activeElement)
      ? document.activeElement.dataset.span : null;
    replace(timeline, h("div", { class: "tl-row tl-axis" },
      h("div", { class: "tl-name" }), h("div", { class: "tl-track" }, ticks),
      h("div", { class: "tl-dur" })), rows);
    const again = focused && rows.find((row) => row.dataset.span === focused);
    if (again) again.focus();
  }

  function spanRow(span, depth, t0, total) {
    const queued = ms(span.queuedAt);
    const start = ms(span.startedAt) || queued;
    const live = !span.endedAt && !isEnded(span.status) && !isEnded(data.run.status);
    const end = ms(span.endedAt) || (live ? Date.now() : start);
    const left = start ? ((start - t0) / total) * 100 : 0;
    const width = start ? Math.max(((end - start) / total) * 100, 0.4) : 0;
    const wait = queued && start && start > queued
      ? h("div", { class: "bar queue", style: `left:${((queued - t0) / total) * 100}%;` +
        `width:${((start - queued) / total) * 100}%`, title: `queued ${duration(start - queued)}` })
      : null;
    const op = span.isRoot ? "run" : (depth === 2 ? "try" : OPS[span.stepOp] || "fn");
    // The function's own calls are explained in the details only: the rows stay one line.
    const note = span.stepInfo ? stepNote(span) : null;
    const isSelected = span.spanID === selected;
    const select = () => {
      selected = span.spanID;
      detailsKey = "";
      load();
    };
    return h("div", {
      class: `tl-row span-row depth-${depth}${isSelected ? " selected" : ""}`, role: "listitem",
      tabindex: 0, "data-nav-row": 1, "data-span": span.spanID, "data-name": span.name,
      "data-status": span.status, "aria-selected": isSelected ? "true" : "false",
      onclick: (event) => { if (!event.target.closest("a")) select(); },
      onkeydown: (event) => { if (event.key === "Enter") select(); },
    },
    h("div", { class: "tl-name", style: `padding-left:${depth * 16}px` },
      h("span", { class: `op op-${op}` }, op),
      h("span", { class: "name", title: FN_NOTES[span.name] && !span.stepOp
        ? `${span.name}: ${FN_NOTES[span.name]}` : span.name }, depth === 2 ? attemptLabel(span) : span.name),
      note ? h("div", { class: "sub" }, note) : null),
    h("div", { class: "tl-track" }, wait,
      start ? h("div", {
        class: `bar b-${String(span.status).toLowerCase()} op-${op}${live ? " live" : ""}`,
        style: `left:${left}%;width:${width}%`,
        title: `${span.name}: ${duration(end - start)} (${absolute(span.startedAt || span.queuedAt)})`,
      }) : null),
    h("div", { class: "tl-dur" }, span.duration !== null ? duration(span.duration)
      : (live && start ? duration(end - start) : "")));
  }

  // Sleeps, waits and invokes, described by the span's own stepInfo.
  function stepNote(span) {
    const info = span.stepInfo;
    if (!info) return FN_NOTES[span.name] && !span.stepOp ? FN_NOTES[span.name] : null;
    if (info.__typename === "SleepStepInfo") return ["sleeps until ", stamp(info.sleepUntil)];
    if (info.__typename === "WaitForEventStepInfo") {
      return [`waits for ${info.eventName}`, info.expression ? ` if ${info.expression}` : "",
        " until ", stamp(info.timeout),
        info.timedOut ? " · timed out" : (info.foundEventID ? [" · got ",
          h("a", { href: `#/events/${info.foundEventID}` }, "event")] : "")];
    }
    if (info.__typename === "InvokeStepInfo") {
      return [`invokes ${info.functionID} until `, stamp(info.timeout),
        info.runID ? [" · ", h("a", { href: `#/runs/${info.runID}`, class: "child-run" },
          "child run →")] : "",
        info.timedOut ? " · timed out" : ""];
    }
    return null;
  }

  async function renderDetails(span) {
    const rows = [
      ["Status", statusBadge(span.status)],
      span.stepOp ? ["Kind", OPS[span.stepOp] || span.stepOp] : null,
      ["Queued", stamp(span.queuedAt)],
      ["Started", stamp(span.startedAt)],
      ["Ended", stamp(span.endedAt)],
      ["Queue delay", span.startedAt && span.queuedAt
        ? duration(ms(span.startedAt) - ms(span.queuedAt)) : "—"],
      ["Duration", span.duration !== null ? duration(span.duration) : "—"],
      span.attempts && depth(span) < 2 ? ["Retries", String(span.attempts)] : null,
      depth(span) === 2 ? ["Attempt", `${attemptLabel(span)} (ctx.attempt ${span.attempts})`]
        : null,
    ].filter(Boolean);
    const title = h("h2", {},
      span.isRoot ? "Run" : (depth(span) === 2 ? attemptLabel(span) : span.name));
    const parts = [
      canRerunFrom(span) ? rerunFromBox(span, title) : title,
      h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    ];
    const note = stepNote(span);
    if (note) parts.push(h("p", { class: "note" }, note));
    if (span.outputID) parts.push(await outputBlock(span.outputID));
    const attempts = span.childrenSpans || [];
    if (!span.isRoot && attempts.length) {
      parts.push(h("h3", {}, `Attempts (${attempts.length})`));
      for (const attempt of attempts) parts.push(await attemptBlock(attempt));
    }
    replace(details, parts);
  }

  // As on the dev server, a step of an ended run can be rerun from. Unlike its dialog, the
  // console offers no new input for the step: this SDK does not read one yet.
  function canRerunFrom(span) {
    return Boolean(span.stepID) && depth(span) === 1 && isEnded(data.run.status);
  }

  function rerunFromBox(span, title) {
    const problem = h("p", { class: "error-text", id: "rerun-step-problem", role: "alert" });
    const start = button("Rerun from here", (event) => rerunFrom(span, event.target, problem), {
      id: "rerun-step",
      title: "Start a new run from the same event at this step: the steps before it keep " +
        "this run's results and are not run again",
    });
    return h("div", { class: "rerun-step" },
      h("div", { class: "title-row details-head" }, title, h("div", { class: "actions" }, start)),
      problem);
  }

  async function rerunFrom(span, node, problem) {
    node.disabled = true;
    problem.replaceChildren();
    try {
      const answer = await gql(RERUN_FROM, { id: data.run.id, from: { stepID: span.stepID } });
      flash(`Rerun started from ${span.name}`);
      location.hash = `#/runs/${answer.rerun}`;
    } catch (err) {
      problem.textContent = `Could not rerun from this step: ${err.message}`;
    } finally {
      node.disabled = false;
    }
  }

  async function outputBlock(id) {
    const out = await output(id);
    const blocks = [];
    if (out.failure) return h("p", { class: "error-text" }, `Output not available: ${out.failure}`);
    if (out.error) blocks.push(h("h3", {}, "Error"), errorView(out.error));
    else if (out.data !== null && out.data !== undefined) {
      blocks.push(h("h3", {}, "Output"), jsonText(out.data));
    }
    return h("div", { class: "output" }, blocks);
  }

  async function attemptBlock(attempt) {
    const out = attempt.outputID ? await output(attempt.outputID) : null;
    return h("div", { class: "attempt", "data-status": attempt.status },
      h("div", { class: "attempt-head" }, h("strong", {}, attemptLabel(attempt)), " ",
        statusBadge(attempt.status), " ", h("span", { class: "muted" },
          `ctx.attempt ${attempt.attempts}`, attempt.startedAt ? " · " : "",
          attempt.startedAt ? clock(attempt.startedAt) : "",
          attempt.duration !== null ? ` · ${duration(attempt.duration)}` : "")),
      out && out.error ? errorView(out.error)
        : (out && out.data ? jsonText(out.data) : null));
  }

  // Which level of the tree a span is at: attempts (level 2) are numbered from 1 here, while
  // the trace (as the server's) and the SDK's ctx.attempt count from 0.
  function depth(span) {
    const found = flatten(data.run.trace).find((s) => s.span.spanID === span.spanID);
    return found ? found.depth : 0;
  }

  function renderTrigger() {
    const trigger = data.runTrigger;
    if (trigger.cron) {
      replace(triggerBox, h("h2", {}, "Trigger"), h("p", {}, `cron ${trigger.cron}`,
        " at ", stamp(trigger.timestamp)));
      return;
    }
    const events = trigger.payloads.map((p, i) => h("div", { class: "trigger-event" },
      h("div", {}, h("a", { href: `#/events/${trigger.IDs[i]}` }, trigger.IDs[i])),
      jsonText(p)));
    replace(triggerBox,
      h("h2", {}, trigger.isBatch ? `Triggering events (${events.length})` : "Triggering event"),
      events.length ? events : h("p", { class: "muted" }, "No event (the event was removed)."));
  }

  await load();
  return {
    back: "#/runs",
    poll: async () => {
      if (data && isEnded(data.run.status) && data.run.endedAt &&
          Date.now() - ms(data.run.endedAt) > 5000) return;
      await load();
    },
  };
}

function flatten(root) {
  const out = [{ span: root, depth: 0 }];
  for (const child of root.childrenSpans || []) {
    out.push({ span: child, depth: 1 });
    for (const attempt of child.childrenSpans || []) out.push({ span: attempt, depth: 2 });
  }
  return out;
}

function attemptLabel(span) {
  return `Attempt ${(span.attempts || 0) + 1}`;
}

function meta(label, value) {
  return h("div", { class: "meta-item" }, h("span", { class: "label" }, label), value);
}

function stamp(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  return h("span", { class: "stamp", title: absolute(iso) }, clock(iso), " ",
    h("span", { class: "muted" }, "(", when(iso), ")"));
}

function jsonText(text) {
  try {
    return jsonView(JSON.parse(text));
  } catch {
    return h("pre", { class: "json" }, text);
  }
}

export function errorView(error) {
  return h("div", { class: "error-box" },
    h("div", { class: "error-title" }, h("span", { class: "error-name" }, error.name || "Error"),
      ": ", h("span", { class: "error-message" }, error.message || "")),
    error.stack ? h("pre", { class: "stack" }, error.stack) : null,
    error.cause ? [h("div", { class: "muted" }, "Cause"), jsonText(error.cause)] : null);
}
