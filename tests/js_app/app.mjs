// An app written with the official JS SDK (inngest v3), served with inngest/node, for
// tests that run the same app on this project's engine and on the real server.
//
// Environment:
//   PORT                  port to listen on (127.0.0.1)
//   INNGEST_BASE_URL      the server's URL (events are sent there, the app syncs with it)
//   JS_APP_LEDGER         file that gets one JSON line per step body execution:
//                         {run, step, attempt, at (ms since the epoch)}
//
// Endpoints: /api/inngest serves app "js-app" (request version 1) with every function below;
// /api/inngest-v2 serves app "js-app-v2" (optimizeParallelism: request version 2) with
// js/parallel only. Sync one of them with a server, not both: both run js/parallel.
//
// Functions (event name -> function id):
//   js/parallel  -> parallel: data.n parallel step.run calls ("p0".."p{n-1}") via
//                   Promise.all, each taking up to data.delay_ms (random); step
//                   data.fail_once throws on its first attempt.
//   js/fail      -> fail: throws an Error (data.message) with retries: 0, from a step
//                   ("failing") when data.in_step is true.
//   js/sleep-far -> sleep-far: step.sleepUntil data.until (an ISO time).
//   js/idem      -> idem: idempotency "event.data.key"; returns data.key.
import fs from "node:fs";
import http from "node:http";
import { Inngest } from "inngest";
import { serve } from "inngest/node";

const ledger = process.env.JS_APP_LEDGER;

function record(runId, step, attempt) {
  if (ledger) {
    const line = { run: runId, step, attempt, at: Date.now() };
    fs.appendFileSync(ledger, JSON.stringify(line) + "\n");
  }
}

function inngestClient(id, optimizeParallelism) {
  return new Inngest({ id, isDev: true, baseUrl: process.env.INNGEST_BASE_URL, optimizeParallelism });
}

const client = inngestClient("js-app", false);
const clientV2 = inngestClient("js-app-v2", true);

const parallelFor = (owner) => owner.createFunction(
  { id: "parallel", retries: 3 },
  { event: "js/parallel" },
  async ({ event, step, runId, attempt }) => {
    const names = Array.from({ length: event.data.n }, (_, i) => `p${i}`);
    const results = await Promise.all(names.map((name) => step.run(name, async () => {
      record(runId, name, attempt);
      await new Promise((done) => setTimeout(done, Math.random() * (event.data.delay_ms || 0)));
      if (name === event.data.fail_once && attempt === 0) {
        throw new Error(`${name} fails once`);
      }
      return name;
    })));
    return results.join(",");
  },
);

const fail = client.createFunction(
  { id: "fail", retries: 0 },
  { event: "js/fail" },
  async ({ event, step }) => {
    if (event.data.in_step) {
      await step.run("failing", () => {
        throw new Error(event.data.message);
      });
    }
    throw new Error(event.data.message);
  },
);

const sleepFar = client.createFunction(
  { id: "sleep-far", retries: 0 },
  { event: "js/sleep-far" },
  async ({ event, step }) => {
    await step.sleepUntil("far", event.data.until);
    return "woke";
  },
);

const idem = client.createFunction(
  { id: "idem", idempotency: "event.data.key" },
  { event: "js/idem" },
  async ({ event }) => event.data.key,
);

const handlers = {
  "/api/inngest": serve({ client, functions: [parallelFor(client), fail, sleepFar, idem] }),
  "/api/inngest-v2": serve({ client: clientV2, functions: [parallelFor(clientV2)] }),
};

http.createServer((req, res) => {
  const handler = handlers[new URL(req.url, "http://app").pathname];
  if (handler === undefined) {
    res.writeHead(404).end();
    return;
  }
  handler(req, res);
}).listen(Number(process.env.PORT), "127.0.0.1");
