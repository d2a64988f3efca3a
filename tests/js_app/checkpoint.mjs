// An app written with the official JS SDK (inngest v3) whose functions use async
// checkpointing: the SDK runs several steps in one call and sends their results to the
// server's checkpoint API (POST /v1/checkpoint/{runID}/async) as it goes.
//
// Environment:
//   PORT              port to listen on (127.0.0.1)
//   INNGEST_BASE_URL  the server's URL (events are sent there, the app syncs with it)
//   JS_APP_LEDGER     file that gets one JSON line per step body execution and per call
//                     the SDK gets: {run, step, attempt} ("step" is "call" for a call)
//
// Endpoint: /api/inngest serves app "js-checkpoint" with the functions below.
//
// Functions (event name -> function id):
//   js/checkpoint        -> checkpoint: steps "a", "b", "c" (checkpointing: true), then
//                           returns their results; data.sleep puts a step.sleep ("nap",
//                           data.sleep) between "b" and "c".
//   js/checkpoint-buffer -> checkpoint-buffer: the same steps with checkpointing
//                           {bufferedSteps: 2}.
//   js/checkpoint-fail   -> checkpoint-fail: step "a", then step "b" that throws
//                           (retries: 0).
import fs from "node:fs";
import http from "node:http";
import { Inngest } from "inngest";
import { serve } from "inngest/node";

const ledger = process.env.JS_APP_LEDGER;

function record(runId, step, attempt) {
  if (ledger) {
    fs.appendFileSync(ledger, JSON.stringify({ run: runId, step, attempt }) + "\n");
  }
}

const client = new Inngest({ id: "js-checkpoint", isDev: true, baseUrl: process.env.INNGEST_BASE_URL });

const threeSteps = async ({ event, step, runId, attempt }) => {
  const run = (name) => step.run(name, () => {
    record(runId, name, attempt);
    return `${name}-done`;
  });
  const a = await run("a");
  const b = await run("b");
  if (event.data.sleep) {
    await step.sleep("nap", event.data.sleep);
  }
  const c = await run("c");
  return { a, b, c };
};

const checkpoint = client.createFunction(
  { id: "checkpoint", checkpointing: true },
  { event: "js/checkpoint" },
  threeSteps,
);

const buffered = client.createFunction(
  { id: "checkpoint-buffer", checkpointing: { bufferedSteps: 2 } },
  { event: "js/checkpoint-buffer" },
  threeSteps,
);

const failing = client.createFunction(
  { id: "checkpoint-fail", checkpointing: true, retries: 0 },
  { event: "js/checkpoint-fail" },
  async ({ step, runId, attempt }) => {
    await step.run("a", () => {
      record(runId, "a", attempt);
      return "a-done";
    });
    await step.run("b", () => {
      record(runId, "b", attempt);
      throw new Error("b fails");
    });
  },
);

const handler = serve({ client, functions: [checkpoint, buffered, failing] });

http.createServer((req, res) => {
  if (new URL(req.url, "http://app").pathname !== "/api/inngest") {
    res.writeHead(404).end();
    return;
  }
  if (req.method === "POST") {
    const runId = req.headers["x-run-id"];
    if (runId) {
      record(runId, "call", null);
    }
  }
  handler(req, res);
}).listen(Number(process.env.PORT), "127.0.0.1");
