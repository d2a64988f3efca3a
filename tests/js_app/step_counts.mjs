// What the differential apps (differential.mjs, differential_v4.mjs) share: a count of how
// often each step body ran, by the trigger's data.key, and the server that answers
// GET /counts?key=K with them and passes every other request to the SDK's handler.
import http from "node:http";

const counts = new Map();

export function hit(key, what) {
  const seen = counts.get(key) ?? {};
  seen[what] = (seen[what] ?? 0) + 1;
  counts.set(key, seen);
  return seen[what];
}

export function listen(handler, port) {
  http.createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname === "/counts") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(counts.get(url.searchParams.get("key")) ?? {}));
      return;
    }
    handler(req, res);
  }).listen(port, "127.0.0.1", () => {
    console.log(`listening on ${port}`);
  });
}
