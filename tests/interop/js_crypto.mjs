// Drives the JS @inngest/middleware-encryption middleware for the interop tests.
// Usage: node js_crypto.mjs <dir containing node_modules>
// stdin:  {"key": str, "fallbackKeys": [str], "eventEncryptionField": str|null,
//          "requests": [{"op": "seal_value"|"open_value"|"seal_event"|"open_event"|"seal_invoke",
//                        "value": any}]}
// stdout: {"results": [any]} in request order.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(path.resolve(process.argv[2]), "package.json"));
const { encryptionMiddleware } = require("@inngest/middleware-encryption");

const readStdin = async () => {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
};

const handlers = {
  // A step's output as the middleware sends it to the server.
  seal_value: (mw, value) => mw.wrapStepHandler({ next: async () => value }),
  // A memoized step output as the middleware hands it to the function.
  open_value: (mw, value) => mw.wrapStep({ next: async () => value }),
  seal_event: async (mw, value) => (await mw.transformSendEvent({ events: [value] })).events[0],
  open_event: async (mw, value) =>
    (await mw.transformFunctionInput({ ctx: { event: value, events: [value] } })).ctx.event,
  seal_invoke: async (mw, value) =>
    (await mw.transformStepInput({ stepInfo: { stepType: "invoke" }, input: [value] })).input[0],
};

const main = async () => {
  const request = await readStdin();
  const Middleware = encryptionMiddleware({
    key: request.key,
    fallbackDecryptionKeys: request.fallbackKeys ?? [],
    eventEncryptionField: request.eventEncryptionField ?? undefined,
  });
  const mw = new Middleware({ client: {} });
  const results = [];
  for (const { op, value } of request.requests) {
    results.push(await handlers[op](mw, value));
  }
  process.stdout.write(JSON.stringify({ results }));
};

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
