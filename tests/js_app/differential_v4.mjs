// The app written with the official JS SDK v4 (the `inngest-v4` alias of inngest@4), run once
// per server by the differential suite beside differential.mjs (v3). Environment: PORT
// (listen port), INNGEST_DEV (the server's origin). GET /counts?key=K answers how often each
// step body ran for the trigger with data.key K.
// Functions (events v4/<id>): steps (checkpointed, v4's default), parallel, flaky (a step
// failing once), non-retriable, waiter, invoker (of child), defers (deferred runs of
// deferred, one aborted, one from within a step), sessions (ctx.sessions through
// step.sendEvent, step.invoke and defer, seen by child and deferred), scored (step.score,
// step.metadata and a score and metadata update inside step.run).
import { Inngest, NonRetriableError } from "inngest-v4";
import { createDefer, metadataMiddleware, scoreMiddleware } from "inngest-v4/experimental";
import { serve } from "inngest-v4/node";
import { hit, listen } from "./step_counts.mjs";

const inngest = new Inngest({
  id: "diff-js-v4", middleware: [metadataMiddleware(), scoreMiddleware()],
});

const fn = (id, handler, options = {}) => inngest.createFunction(
  { id, retries: 1, triggers: [{ event: `v4/${id}` }], ...options }, handler);

const steps = fn("steps", async ({ event, step }) => {
  const first = await step.run("first", () => hit(event.data.key, "first"));
  const second = await step.run("second", () => hit(event.data.key, "second") + first);
  await step.sleep("nap", "1s");
  const third = await step.run("third", () => hit(event.data.key, "third") + second);
  return { first, second, third };
});

const parallel = fn("parallel", async ({ event, step }) => {
  const results = await Promise.all(["p1", "p2", "p3"].map((name) => step.run(name, () => {
    hit(event.data.key, name);
    return name;
  })));
  return { results, after: await step.run("after", () => "joined") };
});

const flaky = fn("flaky", async ({ event, step, attempt }) => {
  const value = await step.run("flaky-step", () => {
    if (hit(event.data.key, "flaky-step") === 1) throw new Error("first attempt fails");
    return { attempt };
  });
  return { value };
}, { retries: 2 });

const nonRetriable = fn("non-retriable", async ({ step }) => {
  await step.run("before", () => "ok");
  await step.run("refuse", () => {
    throw new NonRetriableError("no retry for this");
  });
}, { retries: 3 });

const waiter = fn("waiter", async ({ event, step }) => {
  await step.run("ready", () => hit(event.data.key, "ready"));
  const matched = await step.waitForEvent("resolve", {
    event: "v4/waiter.resolve", if: "async.data.key == event.data.key", timeout: "20s",
  });
  return { matched: matched === null ? null : matched.data };
});

const child = fn("child", async ({ event, sessions }) => {
  return { via: event.data.via, sessions: sessions ?? null };
});

const invoker = fn("invoker", async ({ event, step }) => {
  const answer = await step.invoke("call", { function: child, data: { via: "invoke" } });
  return { invoked: answer, key: event.data.key };
});

const deferred = createDefer(inngest, { id: "deferred", retries: 0 }, async (ctx) => {
  return { data: ctx.event.data, sessions: ctx.sessions ?? null };
});

const defers = fn("defers", async ({ event, step, defer }) => {
  defer("first", { function: deferred, data: { n: 1 } });
  const dropped = defer("dropped", { function: deferred, data: { n: 2 } });
  dropped.abort();
  await step.run("work", () => {
    defer("in-step", { function: deferred, data: { n: 3 } });
    return hit(event.data.key, "work");
  });
  return "deferred";
});

const sessionsParent = fn("sessions", async ({ event, step, sessions, defer }) => {
  const sent = await step.sendEvent("send", [
    { name: "v4/child", data: { via: "send" } },
    { name: "v4/child", data: { via: "send-cut" }, meta: { sessions: { org: null } } },
  ]);
  const invoked = await step.invoke("call", {
    function: child, data: { via: "invoke" }, meta: { sessions: { extra: "x1" } },
  });
  defer("later", {
    function: deferred, data: { via: "defer" }, meta: { sessions: { conv: "override" } },
  });
  return { own: sessions ?? null, sent: sent.ids, invoked, key: event.data.key };
});

const scored = fn("scored", async ({ step }) => {
  await step.run("work", async () => {
    await inngest.score({ name: "inside", value: 0.5 });
    await inngest.metadata.update({ phase: "work" });
    return "worked";
  });
  await step.score("score-run", { name: "quality", value: 0.9 });
  await step.score("score-step", { name: "step_quality", value: true, stepId: "work" });
  await step.metadata("meta").update({ status: "done" });
  return "scored";
});

const handler = serve({
  client: inngest,
  functions: [
    steps, parallel, flaky, nonRetriable, waiter, child, invoker, deferred, defers,
    sessionsParent, scored,
  ],
});

listen(handler, Number(process.env.PORT));
