// An app written with the official JS SDK (inngest v3) that traces itself with OpenTelemetry
// (extendedTracesMiddleware), for tests of /v1/traces/userland on this project's engine.
//
// Environment:
//   PORT              port to listen on (127.0.0.1)
//   INNGEST_BASE_URL  the server's URL (events, sync and the spans are sent there)
//   JS_APP_HEADERS    file that gets one JSON line per request the server makes:
//                     {traceparent, tracestate} (optional)
//
// Endpoint: /api/inngest serves app "js-otel".
// Functions (event name -> function id):
//   js/otel -> otel: step "traced" starts a span "custom-work" (attribute work.kind=demo)
//              with a child span "inner"; then, outside any step, a span "after-steps";
//              returns "done".
import fs from "node:fs";
import http from "node:http";
import { Inngest } from "inngest";
import { extendedTracesMiddleware } from "inngest/experimental";
import { serve } from "inngest/node";

const client = new Inngest({
  id: "js-otel", isDev: true, baseUrl: process.env.INNGEST_BASE_URL,
  middleware: [extendedTracesMiddleware()],
});

const otel = client.createFunction(
  { id: "otel", retries: 0 },
  { event: "js/otel" },
  async ({ step, tracer }) => {
    await step.run("traced", () => tracer.startActiveSpan("custom-work", (span) => {
      span.setAttribute("work.kind", "demo");
      tracer.startActiveSpan("inner", (inner) => inner.end());
      span.end();
      return "traced";
    }));
    tracer.startActiveSpan("after-steps", (span) => span.end());
    return "done";
  },
);

const handler = serve({ client, functions: [otel] });
const headersFile = process.env.JS_APP_HEADERS;

http.createServer((req, res) => {
  if (new URL(req.url, "http://app").pathname !== "/api/inngest") {
    res.writeHead(404).end();
    return;
  }
  if (headersFile && req.method === "POST") {
    const line = { traceparent: req.headers.traceparent, tracestate: req.headers.tracestate };
    fs.appendFileSync(headersFile, JSON.stringify(line) + "\n");
  }
  handler(req, res);
}).listen(Number(process.env.PORT), "127.0.0.1");
