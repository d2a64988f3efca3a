// A worker written with the official JS SDK (inngest v3) that serves its functions over
// Connect: it opens a WebSocket to the server's gateway (`connect()`), so it has no HTTP
// endpoint of its own. For tests/unit/engine/test_connect_worker.py. Node 20 needs
// `node --experimental-websocket connect.mjs` (its WebSocket is not on by default).
//
// Environment:
//   INNGEST_BASE_URL      the server's URL (the start request and events go there)
//   CONNECT_INSTANCE_ID   the worker's instance id (default: the host name)
//   CONNECT_GATEWAY_URL   a WebSocket URL to use instead of the gateway the server names
//                         (a logging proxy in front of it, say)
//
// Prints "ready" on stdout once the connection is active; exits on SIGTERM after closing it.
//
// Functions of app "js-connect" (event name -> function id):
//   connect/steps -> steps: step.run "double" (data.n * 2), step.sleep "nap" (data.sleep,
//                    default "1s"), step.run "add" (+ 1); returns {doubled, result}.
//   connect/fail  -> fail: retries 1; step.run "flaky" throws on its first attempt and
//                    returns "recovered" on the second; then, when data.fatal is true,
//                    throws NonRetriableError(data.message).
import { Inngest, NonRetriableError } from "inngest";
import { connect } from "inngest/connect";

const client = new Inngest({ id: "js-connect", isDev: true, baseUrl: process.env.INNGEST_BASE_URL });

const steps = client.createFunction(
  { id: "steps" },
  { event: "connect/steps" },
  async ({ event, step }) => {
    const doubled = await step.run("double", () => event.data.n * 2);
    await step.sleep("nap", event.data.sleep ?? "1s");
    const result = await step.run("add", () => doubled + 1);
    return { doubled, result };
  },
);

const fail = client.createFunction(
  { id: "fail", retries: 1 },
  { event: "connect/fail" },
  async ({ event, step, attempt }) => {
    const flaky = await step.run("flaky", () => {
      if (attempt === 0) {
        throw new Error("first attempt fails");
      }
      return "recovered";
    });
    if (event.data.fatal) {
      throw new NonRetriableError(event.data.message ?? "fatal");
    }
    return flaky;
  },
);

const connection = await connect({
  apps: [{ client, functions: [steps, fail] }],
  instanceId: process.env.CONNECT_INSTANCE_ID,
  ...(process.env.CONNECT_GATEWAY_URL && {
    rewriteGatewayEndpoint: () => process.env.CONNECT_GATEWAY_URL,
  }),
});
process.stdout.write(`ready ${connection.state}\n`);
process.on("SIGTERM", async () => {
  await connection.close();
  process.exit(0);
});
