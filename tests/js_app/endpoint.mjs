// A durable endpoint of the official JS SDK (inngest v3, inngest/edge's endpointAdapter):
// the app's own HTTP route runs steps in the request and checkpoints them to the server
// (POST /v1/checkpoint, POST /v1/checkpoint/{runID}/steps). A route that "goes async" (a
// sleep, a wait for an event, a step error to retry) answers its caller with a redirect to
// the server's output route, and the server then calls the route again (with the run's id
// in X-Run-ID) to continue the run.
//
// Environment:
//   PORT              port to listen on (127.0.0.1)
//   INNGEST_BASE_URL  the server's URL
//   JS_APP_LEDGER     optional file that gets one JSON line per request the app serves:
//                     {method, path, query, run, signed} ("run" is the X-Run-ID header)
//
// Routes:
//   GET /work?name=N  steps "a" and "b", answers 200 with JSON {"hello": N, "a": ..., "b":
//                     ...}; with text=1 it answers text/plain "plain A B"; with fail=1 its
//                     status is 500.
//   GET /sleep        step "a", step.sleep("nap", "1s"), step "b"; answers JSON {a, b}
//                     (with fail=1, status 500).
//   GET /wait         step "a", step.waitForEvent("wait", {event: "js/endpoint.go",
//                     timeout: "60s"}) then JSON {a, got} (the event's data.value, or null).
//   GET /flaky        step "flaky" throws on its first attempt in this process, then
//                     returns "flaky-ok"; answers JSON {flaky}.
//   GET /fails        step "a", then step "x" throws NonRetriableError("never").
//   GET /parallel     steps "p1" and "p2" in parallel; answers JSON {p1, p2}.
import fs from "node:fs";
import http from "node:http";
import { Inngest, NonRetriableError, step } from "inngest";
import { endpointAdapter } from "inngest/edge";

const client = new Inngest({
  id: "js-endpoint", isDev: true, baseUrl: process.env.INNGEST_BASE_URL, endpointAdapter,
});

const json = (value, status = 200) => new Response(JSON.stringify(value), {
  status, headers: { "content-type": "application/json" },
});

const work = client.endpoint(async (req) => {
  const url = new URL(req.url);
  const a = await step.run("a", () => "a-done");
  const b = await step.run("b", () => `${a}+b`);
  const status = url.searchParams.get("fail") ? 500 : 200;
  if (url.searchParams.get("text")) {
    return new Response(`plain ${a} ${b}`, { status, headers: { "content-type": "text/plain" } });
  }
  const body = JSON.stringify({ hello: url.searchParams.get("name"), a, b });
  return new Response(body, { status, headers: { "content-type": "application/json", "x-custom": "yes" } });
});

const sleep = client.endpoint(async (req) => {
  const a = await step.run("a", () => "a-done");
  await step.sleep("nap", "1s");
  const b = await step.run("b", () => `${a}+b`);
  return json({ a, b }, new URL(req.url).searchParams.get("fail") ? 500 : 200);
});

const wait = client.endpoint(async () => {
  const a = await step.run("a", () => "a-done");
  const got = await step.waitForEvent("wait", { event: "js/endpoint.go", timeout: "60s" });
  return json({ a, got: got ? got.data.value : null });
});

let flakyCalls = 0;
const flaky = client.endpoint(async () => {
  const value = await step.run("flaky", () => {
    flakyCalls += 1;
    if (flakyCalls === 1) {
      throw new Error("first attempt fails");
    }
    return "flaky-ok";
  });
  return json({ flaky: value });
});

const fails = client.endpoint(async () => {
  const a = await step.run("a", () => "a-done");
  const x = await step.run("x", () => {
    throw new NonRetriableError("never");
  });
  return json({ a, x });
});

const parallel = client.endpoint(async () => {
  const [p1, p2] = await Promise.all([step.run("p1", () => "one"), step.run("p2", () => "two")]);
  return json({ p1, p2 });
});

const routes = {
  "/work": work, "/sleep": sleep, "/wait": wait, "/flaky": flaky, "/fails": fails,
  "/parallel": parallel,
};

function record(req, url) {
  if (process.env.JS_APP_LEDGER) {
    const line = { method: req.method, path: url.pathname, query: url.search,
      run: req.headers["x-run-id"] ?? null, signed: "x-inngest-signature" in req.headers };
    fs.appendFileSync(process.env.JS_APP_LEDGER, JSON.stringify(line) + "\n");
  }
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

http.createServer(async (req, res) => {
  const url = new URL(`http://127.0.0.1:${process.env.PORT}${req.url}`);
  const route = routes[url.pathname];
  if (!route) {
    res.writeHead(404).end();
    return;
  }
  record(req, url);
  const body = await readBody(req);
  const headers = Object.entries(req.headers).filter(([, value]) => typeof value === "string");
  const init = { method: req.method, headers };
  if (body.length && req.method !== "GET" && req.method !== "HEAD") {
    init.body = body;
  }
  const response = await route(new Request(url, init));
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}).listen(Number(process.env.PORT), "127.0.0.1");
