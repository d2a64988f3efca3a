// A durable endpoint of the official JS SDK (inngest v3, inngest/edge's endpointAdapter):
// the app's own HTTP route runs steps in the request and checkpoints them to the server
// (POST /v1/checkpoint, POST /v1/checkpoint/{runID}/steps).
//
// Environment:
//   PORT              port to listen on (127.0.0.1)
//   INNGEST_BASE_URL  the server's URL
//
// Endpoint: GET /work?name=N runs steps "a" and "b" and answers 200 with JSON
// {"hello": N, "a": ..., "b": ...}; with text=1 it answers text/plain "plain A B"; with
// fail=1 its status is 500.
import http from "node:http";
import { Inngest, step } from "inngest";
import { endpointAdapter } from "inngest/edge";

const client = new Inngest({
  id: "js-endpoint", isDev: true, baseUrl: process.env.INNGEST_BASE_URL, endpointAdapter,
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

http.createServer(async (req, res) => {
  const url = `http://127.0.0.1:${process.env.PORT}${req.url}`;
  if (new URL(url).pathname !== "/work") {
    res.writeHead(404).end();
    return;
  }
  const response = await work(new Request(url, { method: req.method, headers: { host: req.headers.host } }));
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}).listen(Number(process.env.PORT), "127.0.0.1");
