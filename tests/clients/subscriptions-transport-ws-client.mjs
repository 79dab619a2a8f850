// Subscribe with subscriptions-transport-ws (legacy graphql-ws protocol); print the first result.
// usage: node subscriptions-transport-ws-client.mjs WS_URL QUERY VARIABLES_JSON
import pkg from "subscriptions-transport-ws";
import WebSocket from "ws";

const { SubscriptionClient } = pkg;
const [url, query, variablesJson] = process.argv.slice(2);
const timer = setTimeout(() => {
  console.error("timed out waiting for a subscription event");
  process.exit(2);
}, 30000);

const client = new SubscriptionClient(url, { reconnect: false }, WebSocket);
let keepAlives = 0;
client.onConnected(() => {});
client.client?.addEventListener?.("message", (msg) => {
  try {
    if (JSON.parse(msg.data).type === "ka") keepAlives += 1;
  } catch {}
});

const observable = client.request({ query, variables: JSON.parse(variablesJson || "{}") });
const sub = observable.subscribe({
  next(result) {
    sub.unsubscribe();
    console.log(JSON.stringify({ result, keepAlives }));
    clearTimeout(timer);
    client.close();
    process.exit(0);
  },
  error(err) {
    console.error("subscription failed:", err);
    process.exit(1);
  },
});
