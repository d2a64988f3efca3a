// A realtime subscriber written with the official `@inngest/realtime` package: it gets a
// subscription token from the server (`getSubscriptionToken`), subscribes with it
// (`subscribe()`, a WebSocket to /v1/realtime/connect) and prints what it receives. For
// tests/unit/engine/test_realtime_peers.py. Node 20 needs
// `node --experimental-websocket realtime.mjs` (its WebSocket is not on by default).
//
// Environment:
//   INNGEST_BASE_URL      the server's URL
//   REALTIME_CHANNEL      the channel to subscribe to
//   REALTIME_TOPICS       its topics, comma-separated
//   REALTIME_COUNT        how many messages to print before exiting (default 1)
//   REALTIME_PUBLISH      optional JSON list of {topic, data}: once subscribed, the script
//                         publishes each through the JS SDK's API (what `publish()` of the
//                         package's middleware calls)
//
// Prints "ready" on stdout once subscribed, then one JSON line per message the package
// yields ({kind, channel, topic, data, runId, envId, createdAt}). Streamed messages
// (`datastream-start`) are not for this package: 0.4.6 throws on them (its stream's `start`
// reads the stream before it is made).
import { Inngest } from "inngest";
import { getSubscriptionToken, subscribe } from "@inngest/realtime";

const client = new Inngest({ id: "js-realtime", isDev: true, baseUrl: process.env.INNGEST_BASE_URL });
const channel = process.env.REALTIME_CHANNEL;
const topics = process.env.REALTIME_TOPICS.split(",");
const wanted = Number(process.env.REALTIME_COUNT || "1");

function printable(message) {
  const { createdAt, ...rest } = message;
  return { ...rest, createdAt: createdAt instanceof Date ? createdAt.toISOString() : createdAt };
}

async function publishAll(list) {
  for (const { topic, data } of list) {
    const result = await client["inngestApi"].publish({ topics: [topic], channel }, data);
    if (!result.ok) {
      throw new Error(`publish failed: ${JSON.stringify(result.error)}`);
    }
  }
}

const token = await getSubscriptionToken(client, { channel, topics });
const subscription = await subscribe(token);
console.log("ready");
if (process.env.REALTIME_PUBLISH) {
  await publishAll(JSON.parse(process.env.REALTIME_PUBLISH));
}
let seen = 0;
for await (const message of subscription) {
  console.log(JSON.stringify(printable(message)));
  seen += 1;
  if (seen >= wanted) {
    break;
  }
}
process.exit(0);
