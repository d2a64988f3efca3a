// The app written with the official JS SDK (inngest@3), run once per server by the
// differential suite. Environment: PORT (listen port), INNGEST_DEV (the server's origin).
// GET /counts?key=K answers how often each step body ran for the trigger with data.key K.
import { Inngest, NonRetriableError, RetryAfterError } from "inngest";
import { serve } from "inngest/node";
import { hit, listen } from "./step_counts.mjs";

const inngest = new Inngest({ id: "diff-js" });

const on = (id) => ({ event: `js/${id}` });

const steps = inngest.createFunction({ id: "steps" }, on("steps"), async ({ event, step }) => {
  const first = await step.run("first", () => 1);
  const second = await step.run("second", () => first + 1);
  return { sum: first + second, data: event.data };
});

const nonRetriable = inngest.createFunction(
  { id: "non-retriable", retries: 3 }, on("non-retriable"), async ({ step }) => {
    await step.run("before", () => "ok");
    throw new NonRetriableError("no retry for this");
  });

const exhausted = inngest.createFunction(
  { id: "exhausted", retries: 1 }, on("exhausted"), async ({ attempt }) => {
    throw new Error(`boom on attempt ${attempt}`);
  });

// A step that throws on every attempt, uncaught: with retries 0 and with a retry.
const stepFailsFor = (id, retries) => inngest.createFunction(
  { id, retries }, on(id), async ({ step }) => {
    await step.run("failing", () => {
      throw new Error("this step always fails");
    });
  });
const stepFails = stepFailsFor("step-fails", 1);
const stepFailsNow = stepFailsFor("step-fails-now", 0);

const retryAfter = inngest.createFunction(
  { id: "retry-after", retries: 2 }, on("retry-after"), async ({ attempt }) => {
    if (attempt === 0) throw new RetryAfterError("not yet", 1000);
    return { attempt };
  });

const sleeper = inngest.createFunction({ id: "sleeper" }, on("sleeper"), async ({ step }) => {
  await step.sleep("nap", "1s");
  return "rested";
});

const waiter = inngest.createFunction({ id: "waiter" }, on("waiter"), async ({ event, step }) => {
  await step.run("ready", () => hit(event.data.key, "ready"));
  const matched = await step.waitForEvent("resolve", {
    event: "js/waiter.resolve", if: "async.data.key == event.data.key",
    timeout: `${event.data.timeout ?? 20}s`,
  });
  return { matched: matched === null ? null : matched.data };
});

const invokee = inngest.createFunction({ id: "invokee" }, on("invokee"), async ({ event }) => {
  return { doubled: (event.data.n ?? 0) * 2 };
});

const invoker = inngest.createFunction({ id: "invoker" }, on("invoker"), async ({ event, step }) => {
  const answer = await step.invoke("call", { function: invokee, data: event.data });
  return { invoked: answer };
});

// Every call of the function first waits 400 ms and p3 ends 200 ms after p1 and p2: the call
// that follows p1 (or p2) answers after p3 ended, still planning p3 as it saw it unfinished.
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const parallel = inngest.createFunction({ id: "parallel" }, on("parallel"), async ({ event, step }) => {
  await pause(400);
  const results = await Promise.all(["p1", "p2", "p3"].map((name) => step.run(name, async () => {
    hit(event.data.key, name);
    await pause(name === "p3" ? 200 : 0);
    return name;
  })));
  return { results, after: await step.run("after", () => "joined") };
});

// step.sendEvent: the sendEvent op; the sent event starts `sent`.
const sender = inngest.createFunction({ id: "sender" }, on("sender"), async ({ event, step }) => {
  const sent = await step.sendEvent("send", {
    name: "js/sent", data: { key: event.data.key, from: "sender" },
  });
  return { ids: sent.ids };
});

const sent = inngest.createFunction({ id: "sent" }, on("sent"), async ({ event }) => {
  return { received: event.data };
});

// checkpointing: the SDK runs both steps in one call, reporting each to the checkpoint API.
const checkpointed = inngest.createFunction(
  { id: "checkpointed", checkpointing: true }, on("checkpointed"), async ({ event, step }) => {
    const first = await step.run("first", () => hit(event.data.key, "first"));
    const second = await step.run("second", () => hit(event.data.key, "second"));
    return { first, second };
  });

const handler = serve({
  client: inngest,
  functions: [
    steps, nonRetriable, exhausted, stepFails, stepFailsNow, retryAfter, sleeper, waiter,
    invokee, invoker, parallel, sender, sent, checkpointed,
  ],
});

listen(handler, Number(process.env.PORT));
